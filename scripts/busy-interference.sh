#!/usr/bin/env bash
# Interference, retaken: square on threads and fork at 2 workers, in pairs of runs — one on the
# quiet machine, one beside a busy loop on CPU 1 that is switched on and off every 2 s (what a
# laptop or a shared runner does to a benchmark). Prints each pair's medians, the busy/quiet
# ratio of each, and what the busy run's header said.
#
# usage: scripts/busy-interference.sh [PAIRS] [OUT]    (3 pairs, results/busy-interference)
set -euo pipefail
pairs=${1:-3}
out=${2:-results/busy-interference}
bin=./target/release/threadfork
cargo build --release --quiet
mkdir -p "$out"
run() { # $1 = label
    "$bin" run --quick --workload square --model sequential,threads,fork --no-charts \
        --out "$out/$1" > "$out/$1.txt"
}
toggler() {
    while :; do
        taskset -c 1 sh -c 'while :; do :; done' & local p=$!
        sleep 2; kill $p 2>/dev/null; wait $p 2>/dev/null || true
        sleep 2
    done
}
for i in $(seq 1 "$pairs"); do
    run "quiet-$i"
    toggler & t=$!
    run "busy-$i"
    kill $t 2>/dev/null; wait $t 2>/dev/null || true
    pkill -f "while :; do :; done" 2>/dev/null || true
done
python3 - "$out" "$pairs" <<'PY'
import glob, json, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def medians(label):
    f = sorted(glob.glob(f"{out}/{label}/*/*.json"))[-1]
    r = json.load(open(f))
    m = {(x["model"], x["workers"]): x for x in r["measurements"] if x["metric"] == "throughput"}
    return r, m
print("| pair | model | quiet median | busy median | busy/quiet | busy: retaken, set aside, flagged |")
print("|---|---|---:|---:|---:|---|")
worst = 0
for i in range(1, pairs + 1):
    rq, q = medians(f"quiet-{i}")
    rb, b = medians(f"busy-{i}")
    for model in ("threads", "fork"):
        a, c = q[(model, 2)], b[(model, 2)]
        k = c["median"] / a["median"]
        worst = max(worst, abs(k - 1))
        print(f"| {i} | {model} | {a['median']/1e9:.3f} G/s | {c['median']/1e9:.3f} G/s | {k:.3f} | "
              f"{c.get('retaken', 0)}, {len(c.get('set_aside', []))}, {c.get('flagged', False)} |")
    print(f"|   | header of busy-{i} | {rb['run']['load']['others_cores']:.2f} cores held by others | | | |")
print(f"\nworst busy/quiet distance from 1: {worst:.3f} (must be under 0.10)")
PY
