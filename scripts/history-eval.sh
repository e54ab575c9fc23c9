#!/usr/bin/env bash
# How well `threadfork history` finds change points on this machine's own noise, and how fast
# it reads a long history:
#   1. `history --evaluate`: series of 100 runs made from the A/A runs of one build in
#      results/history-eval/MACHINE (forty `run --quick --samples 24` of square, counter and
#      empty on the per-sample models; results/baseline/MACHINE where there are none): each
#      synthetic run is one of them, picked at random, with the figure it recorded; steps of
#      2%, 5% and 10% put in at run 61 by re-scaling the recorded figures; recall and false
#      change points, by the keys' run-to-run noise and for the keys whose reach (the smallest
#      step `history` says each series can see) is the step, beside a plain "last run against
#      the ten before" t-test on the same series;
#   2. speed: 1,000 runs × 300 keys (made from one real run, each figure moved by a little
#      noise of its own), `history` over all of them, timed.
#
#   scripts/history-eval.sh [BASELINE_DIR]
#
# Writes the tables to stdout (docs/studies/history.md holds the last ones).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin threadfork
bin=target/release/threadfork
machine=$($bin machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
base=${1:-results/history-eval/$machine}
[ -n "${1:-}" ] || [ -d "$base" ] || base=results/baseline/$machine
[ -d "$base" ] || { echo "history-eval: no A/A runs in $base (make them as docs/compare.md says)"; exit 2; }

echo "## Change points on this machine's noise ($base)"
echo
$bin history "$base" --evaluate 2%,5%,10%
echo

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
template=$(ls "$base"/*.json* | head -1)
python3 - "$template" "$work/runs" <<'PY'
import gzip, json, os, random, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
r = json.load(gzip.open(src) if src.endswith(".gz") else open(src))
ms = [m for m in r["measurements"] if m["metric"] in ("throughput", "startup", "roundtrip")]
# 300 keys: the run's own, then copies of them under further parameter values.
keys = []
i = 0
while len(keys) < 300:
    m = json.loads(json.dumps(ms[i % len(ms)]))
    m["params"] = dict(m["params"], copy=i // len(ms))
    keys.append(m)
    i += 1
rng = random.Random(1)
for k in range(1000):
    run = dict(r)
    run["run"] = dict(r["run"], id=f"20260101T{k:06d}Z-speed", started_at=f"2026-01-01T{k // 3600:02d}:{k // 60 % 60:02d}:{k % 60:02d}Z")
    meas = []
    for m in keys:
        f = 1 + rng.gauss(0, 0.02)
        m2 = dict(m, samples=[x * f for x in m["samples"]], median=m["median"] * f,
                  min=m["min"] * f, max=m["max"] * f, ci95=[m["ci95"][0] * f, m["ci95"][1] * f])
        meas.append(m2)
    run["measurements"] = meas
    with open(os.path.join(out, f"run-{k:04d}.json"), "w") as fh:
        json.dump(run, fh, separators=(",", ":"))
PY
# The 840 MB just written reach the disk first, so the timing is history's reading, not the
# kernel's writeback beside it.
sync
start=$(date +%s.%N)
$bin history "$work/runs" --no-charts --json > "$work/h.json" || true
end=$(date +%s.%N)
python3 - "$work/h.json" "$start" "$end" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
print(f"## Speed\n\n1,000 runs × {len(h['series'])} series (keys and groups): history took "
      f"{float(sys.argv[3]) - float(sys.argv[2]):.1f} s, {len(h['changes'])} change points.")
PY
