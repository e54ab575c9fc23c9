#!/usr/bin/env bash
# Does a history of runs with more samples see smaller steps? PAIRS pairs of quick runs of
# square on the per-sample models, one with 24 samples and one with 60, taken turn about (so
# both meet the same host), kept in results/history-samples/MACHINE-24/ and -60/ (compressed);
# then the run-to-run noise `history` finds in each series, side by side (docs/studies/history.md).
# Run it on a quiet machine, nothing else beside it.
#
#   scripts/history-samples.sh [PAIRS]     # default 20 (about 25 s a pair); 0: the table only
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-20}
case $pairs in '' | *[!0-9]*) echo "history-samples: PAIRS must be a count, 0 or more" >&2; exit 2 ;; esac
cargo build --release --quiet --bin threadfork
bin=target/release/threadfork
machine=$($bin machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=results/history-samples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$pairs"); do
    echo "history-samples: pair $i of $pairs" >&2
    for samples in 24 60; do
        $bin run --quick --samples "$samples" --no-charts --workload square \
            --model sequential,threads,fork,spawn --out "$work/$samples" > /dev/null
        mkdir -p "$out/$machine-$samples"
        gzip -9 -c "$work/$samples/$machine"/*.json > "$out/$machine-$samples/$(basename "$work/$samples/$machine"/*.json).gz"
        rm -f "$work/$samples/$machine"/*.json
    done
done
for samples in 24 60; do
    $bin history "$out/$machine-$samples" --json --no-charts > "$work/h$samples.json" || true
done
python3 - "$work/h24.json" "$work/h60.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
na = {r["series"]: r for r in a["reach"]}
nb = {r["series"]: r for r in b["reach"]}
print(f"{len(a['runs'])} runs of 24 samples, {len(b['runs'])} of 60\n")
print("| series | noise, 24 samples | 60 samples | reach at --window 3, 24 | 60 |")
print("|---|---:|---:|---:|---:|")
for s in sorted(na, key=lambda s: na[s]["noise_pct"]):
    if s in nb and s.endswith("throughput"):
        x, y = na[s], nb[s]
        print(f"| {s} | {x['noise_pct']:.1f}% | {y['noise_pct']:.1f}% | {x['fails_for_pct']:.0f}% | {y['fails_for_pct']:.0f}% |")
PY
