#!/usr/bin/env bash
# The CI regression gate: a quick run on this machine, compared with the baseline stored for
# it in results/baseline/<machine-id>/ (or, when this machine has none, with the newest
# baseline of any machine on machine-independent ratios). Prints compare's Markdown table
# and exits with compare's code: 0 no regression, 1 regression, 2 unusable input.
#   scripts/ci-regress.sh [extra run flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/threadfork
machine=$("$bin" machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" run --quick --no-charts --out "$out" "$@" >&2
base="results/baseline/$machine"
if [ ! -d "$base" ]; then
    base="results/baseline"
    echo "no baseline for machine $machine: comparing with the newest baseline on ratios" >&2
fi
"$bin" compare "$base" "$out" --markdown
