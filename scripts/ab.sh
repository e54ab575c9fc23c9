#!/usr/bin/env bash
# "Did my change make it slower?" for threadfork itself: `threadfork ab --rev`, which builds
# the base revision in a git worktree (its build in target/threadfork-ab/, kept for the next call) and
# measures it beside the head, pair by pair, on this machine. Prints ab's Markdown report and
# exits with its code: 0 no regression, 1 a regression or a failed case, 2 unusable input,
# 3 inconclusive.
#
#   scripts/ab.sh BASE_REV [HEAD_REV] [-- ab flags...]
#
# Without HEAD_REV the head is the working tree as it is (built here). ab flags default to the
# gated set: square, counter and empty on the per-sample models, quick.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/ab.sh BASE_REV [HEAD_REV] [-- ab flags...]" >&2; exit 2; }
rev=(--rev "$1")
shift
if [ $# -ge 1 ] && [ "$1" != "--" ]; then
    rev+=(--head-rev "$1")
    shift
fi
[ "${1:-}" = "--" ] && shift
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--quick --workload square,counter,empty)
cargo build --release --quiet --bin threadfork
exec target/release/threadfork ab "${rev[@]}" --markdown --out "${AB_OUT:-results/ab}" "${flags[@]}"
