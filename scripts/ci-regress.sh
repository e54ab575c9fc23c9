#!/usr/bin/env bash
# The CI regression gate. A quick run on this machine is compared with the baseline kept for
# it in results/baseline/<machine-id>/ — several runs, so that each key is judged against its
# own spread between them — or, when this machine has none, with the newest baseline of any
# machine on machine-independent ratios. With valgrind on PATH an --instructions run is also
# compared with results/baseline-instructions/<machine-id>/ (exact counts, 1% threshold).
# Prints compare's Markdown tables and exits with the worse code: 0 no regression, 1 a
# regression (or a failed case, or a missing key), 2 unusable input.
#
#   scripts/ci-regress.sh [--record] [--allow-unjudged] [--base REV] [extra run flags...]
#
# --base REV: the A/B gate instead — REV and the working tree built and measured side by side
# on this machine (scripts/ab.sh), which needs no baseline: what a pull request's job runs.
# --record: after a passing gate (or when there is no baseline yet), add this run to the
# machine's baseline and keep its newest KEEP runs (default 10: from 10 runs on, each group's
# spread is known well enough to be judged on its own; see `compare`) — what a CI job on the main
# branch does, so that the baseline follows the machine the way the code left it.
# A gate that could judge nothing — no baseline for this machine, as on most fresh hosted
# runners — says so and exits 2, never 0, unless --allow-unjudged.
set -euo pipefail
cd "$(dirname "$0")/.."
record=0
allow_unjudged=0
base_rev=
while [ $# -gt 0 ]; do
    case "$1" in
    --record) record=1 ;;
    --allow-unjudged) allow_unjudged=1 ;;
    --base)
        base_rev=${2:?--base needs a revision}
        shift
        ;;
    *) break ;;
    esac
    shift
done
if [ -n "$base_rev" ]; then
    exec scripts/ab.sh "$base_rev" -- --quick --workload square,counter,empty --model sequential,threads,fork,spawn "$@"
fi
cargo build --release --quiet
bin=target/release/threadfork
machine=$("$bin" machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# gate KIND BASE_DIR RUN_FLAGS... → compares a fresh run with BASE_DIR, records it if asked
gate() {
    local kind=$1 base=$2 keep=${KEEP:-10}
    shift 2
    "$bin" run --quick --no-charts --out "$out/$kind" "$@" >&2
    local cur
    cur=$(ls -t "$out/$kind"/*/*.json | head -1)
    local code=0
    if ls "$base"/*.json* > /dev/null 2>&1; then
        "$bin" compare "$base" "$cur" --markdown || code=$?
    else
        # Another machine's runs judge nothing here: their between-run noise is not this one's.
        echo "no $kind baseline for machine $machine: nothing was judged (scripts/ci-regress.sh --base REV measures a base build beside this one instead)" >&2
        [ "$allow_unjudged" = 1 ] || code=2
    fi
    if [ "$record" = 1 ] && { [ "$code" = 0 ] || ! ls "$base"/*.json* > /dev/null 2>&1; }; then
        mkdir -p "$base"
        cp "$cur" "$base/"
        # Run ids start with their UTC time: the oldest sort first.
        ls "$base"/*.json* | sort | head -n -"$keep" | xargs -r rm --
        echo "recorded $(basename "$cur") in $base (keeping the newest $keep)" >&2
    fi
    return "$code"
}

worst=0
# 24 rounds instead of quick's 5: each key's median then spans more of the host's fast and
# slow spells (pooling two 12-round runs took the between-run σ of a fork from a small parent
# from 14% to 5%, of one from a 1 GiB parent from 4.1% to 3.2%, of square's throughputs from
# 4–7% to 3–5%). By default the workloads whose false-alarm rate and sensitivity
# scripts/gate-sensitivity.sh measured; the sequence study's pipeline lands its threads on
# busy or idle cores from one run to the next and halves its throughput now and then.
# Extra flags (e.g. --workload mine) replace the choice.
# The per-sample models likewise: the committed baseline and the table predate the pools
# (add --model to gate them too, with a baseline recorded the same way).
case " $* " in
*" --workload "*) workloads=() ;;
*" --model "*) workloads=(--workload square,counter,empty) ;;
*) workloads=(--workload square,counter,empty --model sequential,threads,fork,spawn) ;;
esac
gate timed "results/baseline/$machine" --samples 24 "${workloads[@]}" "$@" || worst=$?
if command -v valgrind > /dev/null; then
    code=0
    KEEP=1 gate instructions "results/baseline-instructions/$machine" --instructions "$@" || code=$?
    [ "$code" -gt "$worst" ] && worst=$code
else
    echo "valgrind not found: the --instructions gate is skipped" >&2
fi
exit "$worst"
