#!/usr/bin/env bash
# The A/A runs `scripts/history-eval.sh` reads: N quick runs of one build of threadfork, one
# after the other, into results/history-eval/MACHINE/ (compressed). Run it on a quiet machine,
# nothing else beside it; then `scripts/history-eval.sh` makes the evaluation's tables there.
#
#   scripts/history-aa.sh [N]        # default 40 (about 40 s a run)
#
# SAMPLES=K sets each run's samples (default 24); OUT=DIR the folder (default
# results/history-eval; the study's runs of 60 samples are in results/history-eval-60).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-40}
case $n in '' | *[!0-9]* | 0) echo "history-aa: N must be a count of runs, 1 or more" >&2; exit 2 ;; esac
cargo build --release --quiet --bin threadfork
bin=target/release/threadfork
machine=$($bin machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=${OUT:-results/history-eval}
samples=${SAMPLES:-24}
case $samples in '' | *[!0-9]* | 0) echo "history-aa: SAMPLES must be a count, 1 or more" >&2; exit 2 ;; esac
for i in $(seq 1 "$n"); do
    echo "history-aa: run $i of $n" >&2
    $bin run --quick --samples "$samples" --no-charts --workload square,counter,empty \
        --model sequential,threads,fork,spawn --out "$out" > /dev/null
done
gzip -9 -f "$out/$machine"/*.json
echo "history-aa: $n runs in $out/$machine; now scripts/history-eval.sh" >&2
