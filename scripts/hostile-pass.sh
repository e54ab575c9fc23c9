#!/usr/bin/env bash
# The hostile test pass, as an SRE would run it before trusting threadfork in CI:
#   1. bad inputs          every one: exit 2, one line on stderr, nothing written
#   2. signals             INT, TERM or KILL at a random moment of a run of every model
#   3. a full disk         every file limited to 1 KiB, then to 40 KiB
#   4. two PID namespaces  two runs started together into one folder (needs unshare, root)
#   5. fuzzed loads        mutated results files given to compare and report
# and counts panics, hangs (past the case timeout + 2 s), leftover processes (zombies or
# orphans), files outside --out and lost runs. Exits 1 if any count is not 0.
#   scripts/hostile-pass.sh [SIGNAL_RUNS=20] [FUZZED=300]
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=$PWD/target/release/threadfork
signal_runs=${1:-20}
fuzzed=${2:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
panics=0 hangs=0 leftovers=0 outside=0 lost=0 cases=0

# An exit that is a panic (101) or a death by signal, for a process not killed on purpose.
judge_exit() { # CODE WHAT
    case "$1" in
        101 | 13[4-9] | 1[4-9][0-9] | 2[0-9][0-9]) panics=$((panics + 1)); echo "  panic/crash ($1): $2" ;;
        124) hangs=$((hangs + 1)); echo "  hang: $2" ;;
    esac
}

# Processes of a run: forked workers carry the harness's command line (which names the
# out folder); spawned ones name the harness's pid last; zombies say <defunct>. A harness
# killed by SIGKILL cannot reap: its workers die with it (PR_SET_PDEATHSIG) and are reaped by
# init, which may take it a few seconds; what is still there after 6 s counts.
count_leftovers() { # MARKER PID
    local n tries=0
    while :; do
        ps -eo pid=,stat=,args= >"$work/ps.txt"
        awk -v m="$1" -v p=" $2\$" '(index($0, m) || ($0 ~ "__threadfork-worker" && $0 ~ p) || /threadfork.*<defunct>/)' "$work/ps.txt" >"$work/left.txt"
        [ -s "$work/left.txt" ] && [ "$tries" -lt 60 ] || break
        tries=$((tries + 1))
        sleep 0.1
    done
    n=$(wc -l <"$work/left.txt")
    if [ "$n" -gt 0 ]; then
        leftovers=$((leftovers + n))
        echo "  $n leftover process(es) of $1:"
        sed 's/^/    /' "$work/left.txt"
    fi
}

# 1. Bad inputs.
"$B" run --quick --workload square --model threads --workers 1 --samples 1 --tasks 1000 \
    --no-charts --out good >/dev/null 2>&1
good=$(ls good/*/*.json)
printf '{"schema":"threadfork/results/v2"' >truncated.json
bad_inputs=(
    "run --workers 0" "run --workers x" "run --workers -1" "run --workers 1,,2"
    "run --workers 99999" "run --workload cubes" "run --model greenthreads"
    "run --workload square --model lazy" "run --samples 0" "run --samples -3"
    "run --samples 18446744073709551615" "run --samples 1e15" "run --work 0"
    "run --work 1e20" "run --tasks 1.5" "run --tasks -1"
    "run --workload square --tasks 1e11 --case-timeout 2s"
    "run --workload square --tasks 18446744073709551615" "run --increments 0"
    "run --hold fast" "run --hold 18446744073709551615" "run --hold 61s" "run --hold -5"
    "run --param nope=1" "run --param work" "run --param work=x" "run --parent-rss 12Q"
    "run --parent-rss 20000G" "run --parent-rss -1" "run --sizes 0" "run --sizes 1e30"
    "run --case-timeout never" "run --case-timeout 0" "run --case-timeout 0.0000000001"
    "run --case-timeout 100000000000000000000000" "run --case-timeout 999999999999999999999m"
    "run --inject-fault panic" "run --inject-fault hang:sequential"
    "run --inject-fault abort:threads" "run --out /proc/x" "run --fastest" ""
    "compare $good missing.json" "compare $good truncated.json" "compare /dev/urandom $good"
    "compare $good /dev/zero" "compare --threshold 150% $good $good" "report /dev/null"
    "report $work"
)
for args in "${bad_inputs[@]}"; do
    cases=$((cases + 1))
    rm -rf out
    # shellcheck disable=SC2086
    timeout 20 "$B" $args $([ "${args%% *}" = run ] && echo --out out) >stdout 2>stderr
    code=$?
    judge_exit "$code" "threadfork $args"
    lines=$(wc -l <stderr)
    if [ "$code" -ne 2 ] || [ "$lines" -ne 1 ]; then
        echo "  not a clean refusal (exit $code, $lines lines): threadfork $args"
        lost=$((lost + 1))
    fi
    if [ -e out ]; then
        outside=$((outside + 1))
        echo "  wrote out/ for: threadfork $args"
    fi
done
echo "bad inputs: ${#bad_inputs[@]} tried"

# 2. Signals at random moments.
for i in $(seq 1 "$signal_runs"); do
    cases=$((cases + 1))
    out="$work/sig$i"
    sig=$(shuf -n 1 -e INT TERM KILL)
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.2 + 4 * r / 32768 }')
    "$B" run --quick --workload square,counter,empty,sequence --parent-rss 0,256M \
        --samples 20 --case-timeout 10s --no-charts --out "$out" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill "-$sig" "$pid" 2>/dev/null
    t0=$(date +%s)
    waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ $(($(date +%s) - t0)) -gt 12 ]; then
            hangs=$((hangs + 1))
            echo "  hang after SIG$sig at ${delay}s (run $i)"
            kill -KILL "$pid"
            break
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null
    code=$?
    waited=$(($(date +%s) - t0))
    sleep 0.3
    count_leftovers "$out" "$pid"
    files=$(find "$out" -name '*.json' 2>/dev/null | wc -l)
    temps=$(find "$out" -name '.*' 2>/dev/null | wc -l)
    [ "$temps" -gt 0 ] && { lost=$((lost + 1)); echo "  temp files left (run $i)"; }
    case "$sig:$code" in
        KILL:*) ;;
        *:130 | *:143 | *:0 | *:1)
            if [ "$files" -ne 1 ] || ! "$B" report "$(find "$out" -name '*.json')" --out "$out/r" >/dev/null 2>&1; then
                lost=$((lost + 1))
                echo "  run $i (SIG$sig at ${delay}s, exit $code) left $files loadable results"
            fi
            ;;
        *) judge_exit "$code" "SIG$sig at ${delay}s (run $i)" ;;
    esac
    echo "signal run $i: SIG$sig at ${delay}s, exit $code after ${waited}s, $files results file(s)"
done

# 3. A full disk.
for blocks in 2 80; do
    cases=$((cases + 1))
    rm -rf full
    (ulimit -f "$blocks"; exec "$B" run --quick --workload square --model threads --workers 1 \
        --samples 2 --tasks 1000 --out full) >stdout 2>stderr
    code=$?
    judge_exit "$code" "full disk ($blocks blocks)"
    grep -q "## square" stdout || { lost=$((lost + 1)); echo "  the summary did not reach stdout"; }
    [ "$code" -eq 1 ] && [ "$(wc -l <stderr)" -eq 1 ] || echo "  full disk: exit $code, $(wc -l <stderr) lines"
    [ "$(find full -name '.*' 2>/dev/null | wc -l)" -eq 0 ] || { lost=$((lost + 1)); echo "  temp files left"; }
done
echo "full disk: 2 tried"

# 4. Two PID namespaces, started together into one folder.
if command -v unshare >/dev/null && [ "$(id -u)" -eq 0 ]; then
    for i in $(seq 1 5); do
        cases=$((cases + 1))
        out="$work/ns$i"
        for _ in 1 2; do
            unshare -fp --mount-proc "$B" run --quick --workload square --model threads \
                --workers 1 --samples 1 --tasks 1000 --no-charts --out "$out" >/dev/null 2>&1 &
        done
        wait
        n=$(find "$out" -name '*.json' | wc -l)
        [ "$n" -eq 2 ] || { lost=$((lost + 1)); echo "  namespaces pair $i: $n files"; }
    done
    echo "two namespaces: 5 pairs"
else
    echo "two namespaces: skipped (needs unshare and root)"
fi

# 5. Fuzzed loads.
mkdir -p fuzz
python3 - "$good" fuzz "$fuzzed" <<'PY'
import random, sys
good = open(sys.argv[1], "rb").read()
rng = random.Random(7)
for i in range(int(sys.argv[3])):
    b = bytearray(good)
    for _ in range(rng.randint(1, 8)):
        op, j = rng.random(), rng.randrange(len(b))
        if op < 0.4:
            b[j] = rng.randrange(256)
        elif op < 0.7:
            b[j:j] = rng.choice([b"1e308", b"-", b"NaN", b"..", b"\"/../x\"", b"{", b"]", b"9" * 30])
        else:
            del b[j:j + rng.randint(1, 64)]
    open(f"{sys.argv[2]}/f{i}.json", "wb").write(bytes(b))
PY
for f in fuzz/*.json; do
    cases=$((cases + 1))
    timeout 20 "$B" compare "$good" "$f" >/dev/null 2>&1
    judge_exit $? "compare $f"
    timeout 20 "$B" report "$f" --out fuzz/out >/dev/null 2>&1
    judge_exit $? "report $f"
done
echo "fuzzed loads: $fuzzed files, each through compare and report"

# Nothing may have been written outside the folders given.
stray=$(find "$work" -maxdepth 1 -newer "$good" ! -name 'sig*' ! -name 'ns*' ! -name fuzz \
    ! -name good ! -name full ! -name out ! -name stdout ! -name stderr ! -name truncated.json \
    ! -name ps.txt ! -name left.txt \
    ! -path "$work" | wc -l)
outside=$((outside + stray))
echo "hostile pass: $cases cases: $panics panics, $hangs hangs, $leftovers leftover processes, $outside files outside --out, $lost lost runs"
[ $((panics + hangs + leftovers + outside + lost)) -eq 0 ]
