#!/usr/bin/env bash
# Measures threadfork's regression gate on this machine: how often `compare` exits 1 when a
# real slowdown was injected (detection) and when nothing changed (false alarm).
#
# Slowdowns (the hidden test-only --inject-slowdown TARGET=PCT, a marked run):
#   code  — a workload's own code (square): each share runs PCT% more of itself
#   start — fork and spawn start-up, for every caller (bare loops too, as a kernel would)
#   lock  — threadfork's process-shared lock, on every acquisition (counter)
# Two gates:
#   pair   — one baseline run, the full run just before (what a one-file baseline gives)
#   multi  — a baseline of the BASE_RUNS A/A runs made just before (what
#            `scripts/ci-regress.sh --record` keeps: the newest runs that passed, spread over
#            time; BASE_RUNS A/A runs are made first to fill it)
# and, for --instructions, exact counts (code and lock; start-up is kernel time, which
# callgrind cannot see).
#
#   scripts/gate-sensitivity.sh [PAIRS] [BASE_RUNS]   make the runs (defaults 20 and 10), judge
#   scripts/gate-sensitivity.sh --judge DIR [BASE_RUNS]  judge runs kept earlier in DIR again
#                                                        (after a change to compare)
# KEEP=DIR keeps the runs in DIR. Instruction counts do not depend on the statistical gate: a
# KEEP folder that already holds --instructions runs (ins-*) is judged with them as they are.
# Writes the table to stdout and, with the raw verdicts, to results/gate-sensitivity/<machine-id>/.
set -euo pipefail
cd "$(dirname "$0")/.."
judge_only=""
if [ "${1:-}" = "--judge" ]; then
    judge_only=${2:?--judge needs the folder of kept runs}
    shift 2
    set -- 0 "$@"
fi
pairs=${1:-20}
base_runs=${2:-10}
pcts=(10 20 35)
cargo build --release --quiet
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# A copy of its own: a rebuild meanwhile must not change the binary under the measurement.
cp target/release/threadfork "$scratch/threadfork"
bin=$scratch/threadfork
work=${judge_only:-${KEEP:-$scratch/runs}}
mkdir -p "$work"
machine=$("$bin" machine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
log="$scratch/verdicts.csv"
echo "gate,target,pct,pair,exit,realized" > "$log"
# The gate's runs, as scripts/ci-regress.sh makes them: quick, 24 rounds.
gate_flags=(--quick --samples 24 --no-charts)
# The per-sample models, as the table was measured (the pools came later).
full=("${gate_flags[@]}" --workload square,counter,empty --model sequential,threads,fork,spawn)
# A code or lock slowdown runs its own workload only (the others cannot see it); a start
# slowdown runs the whole set, as CI would: a run of `empty` alone starts its threads on a
# colder process (no thread stacks cached yet) and its thread start-up alone moves by 3–8σ.
declare -A only=([code]=square [lock]=counter)

# run OUT_DIR ARGS...: one run into OUT_DIR (a failed run shows in the verdicts)
run() {
    local out=$1
    shift
    "$bin" run "$@" --out "$out" > /dev/null 2>&1 || true
}

# judge GATE TARGET PCT PAIR BASE... CURRENT: compare, record the exit code and the change
# seen in the target's own figures (geometric mean of raw current ÷ base)
judge() {
    local gate=$1 target=$2 pct=$3 pair=$4
    shift 4
    local code=0
    "$bin" compare "$@" --allow-missing --json > "$scratch/cmp.json" 2> "$scratch/cmp.err" || code=$?
    local realized
    realized=$(python3 - "$scratch/cmp.json" "$target" <<'EOF'
import json, math, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("")
    sys.exit()
target = sys.argv[2]
want = {
    "code": lambda c: c["workload"] == "square" and c["metric"].startswith(("throughput", "instructions")),
    "start": lambda c: c["workload"] == "empty" and c["model"] in ("fork", "spawn") and c["metric"].startswith("startup"),
    "lock": lambda c: c["workload"] == "counter" and c["variant"] == "pshared" and c["metric"].startswith(("throughput", "instructions")),
    "none": lambda c: False,
}[target]
logs = []
for c in r["comparisons"]:
    if c["workers"] and want(c) and c["base_raw"] > 0 and c["current_raw"] > 0:
        x = c["current_raw"] / c["base_raw"]
        logs.append(math.log(x if c["better"] == "lower" else 1 / x))
print("%+.1f" % (100 * (math.exp(sum(logs) / len(logs)) - 1)) if logs else "")
EOF
)
    echo "$gate,$target,$pct,$pair,$code,$realized" >> "$log"
}

newest() { ls "$1"/*/*.json | sort | tail -1; }

if [ -z "$judge_only" ]; then
    echo "baseline: $base_runs A/A runs, then $pairs pairs" >&2
    for b in $(seq 1 "$base_runs"); do
        run "$work/aa" "${full[@]}"
    done
    for i in $(seq 1 "$pairs"); do
        echo "pair $i of $pairs" >&2
        run "$work/aa" "${full[@]}"
        for target in code start lock; do
            for pct in "${pcts[@]}"; do
                case $target in
                start) flags=("${full[@]}") ;;
                *) flags=("${gate_flags[@]}" --workload "${only[$target]}"
                    --model sequential,threads,fork,spawn) ;;
                esac
                run "$work/inj-$target-$pct-$i" "${flags[@]}" --inject-slowdown "$target=$pct"
            done
        done
    done
fi
if [ -z "$judge_only" ] && [ ! -d "$work/ins-base" ]; then
    echo "instructions" >&2
    run "$work/ins-base" --instructions --quick --no-charts --workload square,counter
    for i in $(seq 1 "$pairs"); do
        run "$work/ins-aa-$i" --instructions --quick --no-charts --workload square,counter
        run "$work/ins-code-2-$i" --instructions --quick --no-charts --workload square \
            --inject-slowdown code=2
    done
    # Counts are exact: three pairs per larger slowdown show what twenty would.
    for target in code lock; do
        for pct in "${pcts[@]}"; do
            for i in 1 2 3; do
                run "$work/ins-$target-$pct-$i" --instructions --quick --no-charts \
                    --workload "${only[$target]}" --inject-slowdown "$target=$pct"
            done
        done
    done
fi

echo "judging" >&2
mapfile -t aa < <(ls "$work"/aa/*/*.json | sort)
pairs=$((${#aa[@]} - base_runs))
for i in $(seq 1 "$pairs"); do
    # The pair's A/A run, and the base_runs A/A runs before it.
    cur=${aa[$((base_runs + i - 1))]}
    prev=${aa[$((base_runs + i - 2))]}
    base=("${aa[@]:$((i - 1)):$base_runs}")
    judge pair none 0 "$i" "$prev" "$cur"
    judge multi none 0 "$i" "${base[@]}" "$cur"
    for target in code start lock; do
        for pct in "${pcts[@]}"; do
            inj=$(newest "$work/inj-$target-$pct-$i")
            judge pair "$target" "$pct" "$i" "$cur" "$inj"
            judge multi "$target" "$pct" "$i" "${base[@]}" "$inj"
        done
    done
done
ins0=$(newest "$work/ins-base")
for i in $(seq 1 "$pairs"); do
    judge instructions none 0 "$i" "$ins0" "$(newest "$work/ins-aa-$i")"
    judge instructions code 2 "$i" "$ins0" "$(newest "$work/ins-code-2-$i")"
done
for target in code lock; do
    for pct in "${pcts[@]}"; do
        for i in 1 2 3; do
            judge instructions "$target" "$pct" "$i" "$ins0" "$(newest "$work/ins-$target-$pct-$i")"
        done
    done
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
dest="results/gate-sensitivity/$machine"
mkdir -p "$dest"
cp "$log" "$dest/$stamp.csv"
python3 - "$log" "$pairs" "$base_runs" <<'EOF' | tee "$dest/$stamp.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
pairs, base_runs = sys.argv[2], sys.argv[3]
print(f"| gate | slowdown injected | alarms (exit 1) | change seen in the target's figures (median) |")
print("|---|---|---:|---:|")
gates = {"pair": "statistical, 1 baseline run", "multi": f"statistical, {base_runs} baseline runs",
         "instructions": "--instructions (exact)"}
seen = []
for r in rows:
    k = (r["gate"], r["target"], r["pct"])
    if k not in seen:
        seen.append(k)
for gate, target, pct in seen:
    rs = [r for r in rows if (r["gate"], r["target"], r["pct"]) == (gate, target, pct)]
    alarms = sum(r["exit"] == "1" for r in rs)
    other = sum(r["exit"] not in ("0", "1") for r in rs)
    changes = [float(r["realized"]) for r in rs if r["realized"]]
    what = "none (A/A)" if target == "none" else f"{target} +{pct}%"
    change = f"{statistics.median(changes):+.1f}%" if changes else "–"
    note = f" ({other} unusable)" if other else ""
    print(f"| {gates[gate]} | {what} | {alarms} of {len(rs)}{note} | {change} |")
EOF
echo "written: $dest/$stamp.md and .csv" >&2
