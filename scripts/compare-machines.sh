#!/usr/bin/env bash
# Overlays the newest run of each machine under results/ in one report and prints the
# ratio comparison of the first two: scripts/compare-machines.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/threadfork
runs=()
for dir in results/*/; do
    case "$dir" in results/baseline*/|results/gate-sensitivity/|results/overlay-*|results/refactor-*) continue ;; esac
    newest=$(ls "$dir"*.json 2>/dev/null | sort | tail -1 || true)
    [ -n "$newest" ] && runs+=("$newest")
done
if [ "${#runs[@]}" -lt 1 ]; then
    echo "no runs under results/" >&2
    exit 2
fi
"$bin" report "${runs[@]}" --out "${1:-results/overlay-machines}"
if [ "${#runs[@]}" -ge 2 ]; then
    "$bin" compare "${runs[0]}" "${runs[1]}" || true
fi
