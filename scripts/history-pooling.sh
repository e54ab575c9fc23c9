#!/usr/bin/env bash
# Is a start-up's run-to-run noise the run's own, or the moment's? RUNS quick runs of the empty
# workload on threads and fork, back to back (about 5 s each), kept in
# results/history-start-pooling/MACHINE/ (compressed); then each start-up key's noise over
# single runs against its noise over four consecutive runs pooled (their samples' median,
# about 20 s apart from first to last). Independent runs halve it; a level the host holds for
# minutes would not (docs/studies/history.md). Run it on a quiet machine.
#
#   scripts/history-pooling.sh [RUNS]     # default 48; 0: the table of the kept runs only
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-48}
case $runs in '' | *[!0-9]*) echo "history-pooling: RUNS must be a count, 0 or more" >&2; exit 2 ;; esac
cargo build --release --quiet --bin threadfork
bin=target/release/threadfork
machine=$($bin machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=results/history-start-pooling
for i in $(seq 1 "$runs"); do
    echo "history-pooling: run $i of $runs" >&2
    $bin run --quick --no-charts --workload empty --model threads,fork --out "$out" > /dev/null
done
gzip -9f "$out/$machine"/*.json 2> /dev/null || true
python3 - "$out/$machine" <<'PY'
import glob, gzip, json, math, statistics as st, sys
runs = [json.load(gzip.open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json.gz"))]
keys = {}
for r in runs:
    for m in r["measurements"]:
        if m["metric"] in ("startup", "roundtrip"):
            k = f'{m["model"]} / {m["variant"]} / parent_rss={m["params"]["parent_rss"]} {m["metric"]}'
            keys.setdefault(k, []).append(m["samples"])
print(f"{len(runs)} runs.\n\n| key | σ over single runs | σ over four runs pooled |\n|---|---:|---:|")
for k, v in sorted(keys.items()):
    single = [math.log(st.median(s)) for s in v]
    pooled = [math.log(st.median(sum(v[i:i + 4], []))) for i in range(0, len(v) - 3, 4)]
    print(f"| {k} | {100 * st.stdev(single):.1f}% | {100 * st.stdev(pooled):.1f}% |")
PY
