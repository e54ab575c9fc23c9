#!/usr/bin/env bash
# Interference, retaken: square on threads and fork at 2 workers, in pairs of runs — one on the
# quiet machine, one beside a busy loop on CPU 1 that is switched on and off every 2 s (what a
# laptop or a shared runner does to a benchmark). Prints each pair's medians, the busy/quiet
# ratio of each, and what the busy run's header said.
#
# usage: scripts/busy-interference.sh [PAIRS] [OUT] [SAMPLES]
#        (3 pairs, results/busy-interference, the quick run's 5 samples a case)
#        scripts/busy-interference.sh --table OUT    (the table again, from the kept runs)
# A quick run of these three models lasts about 2 s: one period of the loop. More samples make
# each run span several periods, and several of the host's own spells of core speed.
# The runs are kept compressed, OUT/{quiet,busy}-N/MACHINE/RUN.json.gz.
set -euo pipefail
if [ "${1:-}" = "--table" ]; then
    out=${2:?usage: scripts/busy-interference.sh --table OUT}
    pairs=$(find "$out" -maxdepth 1 -name 'quiet-*' -type d | wc -l)
else
    pairs=${1:-3}
    out=${2:-results/busy-interference}
    samples=${3:-5}
    bin=./target/release/threadfork
    cargo build --release --quiet
    mkdir -p "$out"
    run() { # $1 = label
        "$bin" run --quick --workload square --model sequential,threads,fork --no-charts \
            --samples "$samples" --out "$out/$1" > "$out/$1.txt"
    }
    # The loop, on for 2 s and off for 2 s; stopped (TERM), it stops its loop too.
    toggler() {
        local p=
        trap 'kill $p 2>/dev/null; exit 0' TERM
        while :; do
            taskset -c 1 sh -c 'while :; do :; done' & p=$!
            sleep 2; kill $p 2>/dev/null; wait $p 2>/dev/null || true
            sleep 2
        done
    }
    for i in $(seq 1 "$pairs"); do
        run "quiet-$i"
        toggler & t=$!
        run "busy-$i"
        kill $t 2>/dev/null; wait $t 2>/dev/null || true
    done
    find "$out" -name '*.json' -exec gzip -9 -n {} +
fi
python3 - "$out" "$pairs" <<'PY'
import glob, gzip, json, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def medians(label):
    f = sorted(glob.glob(f"{out}/{label}/*/*.json.gz"))[-1]
    r = json.load(gzip.open(f))
    m = {(x["model"], x["workers"]): x for x in r["measurements"] if x["metric"] == "throughput"}
    return r, m
def per_probe(x):
    # The median of each sample divided by the core speed its probe read beside it: what is
    # left of the host's own drift between two runs a minute apart.
    q = sorted(s / p for s, p in zip(x["samples"], x["probe"]) if p)
    return q[len(q) // 2] if q else float("nan")
print("| pair | model | quiet median | busy median | busy/quiet | per probe step: busy/quiet | busy: retaken, set aside, flagged |")
print("|---|---|---:|---:|---:|---:|---|")
worst = 0
for i in range(1, pairs + 1):
    rq, q = medians(f"quiet-{i}")
    rb, b = medians(f"busy-{i}")
    for model in ("threads", "fork"):
        a, c = q[(model, 2)], b[(model, 2)]
        k = c["median"] / a["median"]
        worst = max(worst, abs(k - 1))
        kp = per_probe(c) / per_probe(a)
        print(f"| {i} | {model} | {a['median']/1e9:.3f} G/s | {c['median']/1e9:.3f} G/s | {k:.3f} | {kp:.3f} | "
              f"{c.get('retaken', 0)}, {len(c.get('set_aside', []))}, {c.get('flagged', False)} |")
    print(f"|   | header of busy-{i} | {rb['run']['load']['others_cores']:.2f} cores held by others | | | | |")
print(f"\nworst busy/quiet distance from 1: {worst:.3f} (must be under 0.10)")
# The reference's own spread: how far the quiet runs of the same build move between minutes.
for model in ("threads", "fork"):
    qs = [medians(f"quiet-{i}")[1][(model, 2)]["median"] for i in range(1, pairs + 1)]
    print(f"quiet runs' own spread, {model} at 2 workers: max/min {max(qs) / min(qs):.3f}")
PY
