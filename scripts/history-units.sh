#!/usr/bin/env bash
# Does the unit `history` follows each key in (a power of the core-speed probe, or ÷ the bare
# loop beside a start) hold from one set of A/A runs to another? Reads two folders of runs of
# one build on one machine (made at different times: scripts/history-aa.sh) and prints, for
# each key, the unit each set picked and the key's run-to-run noise in each; then how many
# keys picked the same unit, and how many are under 5% in each (docs/studies/history.md).
#
#   scripts/history-units.sh A_DIR B_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] && [ -d "$1" ] && [ -d "$2" ] || { echo "history-units: give two folders of A/A runs" >&2; exit 2; }
cargo build --release --quiet --bin threadfork
bin=target/release/threadfork
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$bin history "$1" --json --no-charts > "$work/a.json" || [ $? -eq 1 ]
$bin history "$2" --json --no-charts > "$work/b.json" || [ $? -eq 1 ]
python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
def keys(path):
    return {r["series"]: (r["unit"], r["noise_pct"]) for r in json.load(open(path))["reach"]
            if "every key" not in r["series"]}
a, b = keys(sys.argv[1]), keys(sys.argv[2])
both = sorted(set(a) & set(b))
print("| key | unit (A) | noise A | unit (B) | noise B |\n|---|---|---:|---|---:|")
for k in both:
    print(f"| {k} | {a[k][0]} | {a[k][1]:.1f}% | {b[k][0]} | {b[k][1]:.1f}% |")
same = sum(a[k][0] == b[k][0] for k in both)
print(f"\n{len(both)} series: the same unit in {same}; under 5% run to run: "
      f"{sum(a[k][1] < 5 for k in both)} in A, {sum(b[k][1] < 5 for k in both)} in B.")
PY
