#!/usr/bin/env bash
# The hostile test pass, as an SRE would run it before trusting threadfork in CI:
#   1. bad inputs          every one: exit 2, one line on stderr, nothing written
#   2. signals             INT, TERM or KILL at a random moment of a run of every model
#   3. a full disk         every file limited to 1 KiB, then to 40 KiB
#   4. two PID namespaces  two runs started together into one folder (needs unshare, root)
#   5. fuzzed loads        mutated results files given to compare and report
#   6. resource limits     few file descriptors, a small address space, a memory cgroup,
#                          a pids cgroup (the cgroups need root and cgroup v1)
#   7. a replaced binary   the executable renamed over, deleted or emptied mid-run
#   8. user mistakes       a crate of mistaken workloads built against this tree: a verify
#                          that fails or panics, an undeclared parameter, a run that panics
#                          or allocates 256 MiB in a forked child, 1 TiB of shared state
#   9. A/B faults          a side whose workers abort, a side killed or stopped; SIGINT, SIGTERM
# and counts panics, hangs (past the case timeout + 2 s), leftover processes (zombies or
# orphans), files outside --out and lost runs. Exits 1 if any count is not 0.
#   scripts/hostile-pass.sh [SIGNAL_RUNS=20] [FUZZED=300]
# HOSTILE_SECTIONS="6 7" runs only those sections.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
repo=$PWD
B=$repo/target/release/threadfork
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
# out folder); spawned ones name the harness's pid last; a lean start-up parent and an A/B
# side name it after their mode; zombies say <defunct>. A harness
# killed by SIGKILL cannot reap: its workers die with it (PR_SET_PDEATHSIG) and are reaped by
# init, which may take it a few seconds; what is still there after 6 s counts.
count_leftovers() { # MARKER PID
    local n tries=0
    while :; do
        ps -eo pid=,stat=,args= >"$work/ps.txt"
        awk -v m="$1" -v p=" $2\$" -v q="__threadfork-[a-z]+ $2( |\$)" \
            '(index($0, m) || ($0 ~ "__threadfork-worker" && $0 ~ p) || $0 ~ q || /threadfork.*<defunct>/)' \
            "$work/ps.txt" >"$work/left.txt"
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
section_1() {
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
}

# 2. Signals at random moments.
section_2() {
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
}

# 3. A full disk.
section_3() {
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
}

# 4. Two PID namespaces, started together into one folder.
section_4() {
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
}

# 5. Fuzzed loads.
section_5() {
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
}

# A run's end, for a process not killed on purpose: waits for PID at most SECONDS (a process
# still there then is a hang, and is killed); sets `code`.
wait_for() { # PID SECONDS WHAT
    local t0=$SECONDS
    while kill -0 "$1" 2>/dev/null; do
        if [ $((SECONDS - t0)) -gt "$2" ]; then
            hangs=$((hangs + 1))
            echo "  hang: $3"
            kill -KILL "$1"
            break
        fi
        sleep 0.1
    done
    wait "$1" 2>/dev/null
    code=$?
}

# What a finished run left: a crash or a raw panic message (Rust's "panicked at", which
# threadfork turns into a case's reason for a user's panic) counts; a run that succeeded
# must have saved a loadable results file; no temp file may be left.
judge_run() { # WHAT CODE OUT STDERR
    judge_exit "$2" "$1"
    if grep -q "panicked at" "$4"; then
        panics=$((panics + 1))
        echo "  a raw panic: $1"
        grep "panicked at" "$4" | head -3 | sed 's/^/    /'
    fi
    local f
    f=$(find "$3" -name '*.json' 2>/dev/null | head -1)
    if [ "$2" -eq 0 ] && { [ -z "$f" ] || ! "$B" report "$f" --out "$3-report" >/dev/null 2>&1; }; then
        lost=$((lost + 1))
        echo "  $1: exit 0 without a loadable results file"
    fi
    if [ "$(find "$3" -name '.*' 2>/dev/null | wc -l)" -gt 0 ]; then
        lost=$((lost + 1))
        echo "  $1: temp files left"
    fi
}

# One line about a finished run: its exit, and the last line it wrote on stderr.
outcome() { # WHAT STDERR
    echo "$1: exit $code, $(wc -l <"$2") line(s) on stderr, last: $(tail -1 "$2" | cut -c1-160)"
}

# 6. Resource limits. SETUP is shell run before the harness starts (a ulimit, joining a
# cgroup); the run is small: two models of processes and threads, 1 and 2 workers.
limit_run() { # NAME SETUP [RUN FLAGS...]
    local name=$1 setup=$2 out="$work/lim-$1"
    shift 2
    cases=$((cases + 1))
    bash -c "$setup"' && exec "$@"' limit "$B" run --quick --no-charts --workload square,empty \
        --model threads,fork,spawn --samples 3 --case-timeout 10s --out "$out" "$@" \
        >"$out.stdout" 2>"$out.stderr" &
    local pid=$!
    wait_for "$pid" 240 "limit $name"
    judge_run "limit $name" "$code" "$out" "$out.stderr"
    count_leftovers "$out" "$pid"
    outcome "limit $name" "$out.stderr"
}

# A fresh cgroup of CONTROLLER (v1: memory, pids) under this shell's own, or nothing.
cgroup_dir() { # CONTROLLER
    [ "$(id -u)" -eq 0 ] && [ -d "/sys/fs/cgroup/$1" ] || return 0
    local dir
    dir=/sys/fs/cgroup/$1$(awk -F: -v c="$1" '$2 == c { print $3 }' /proc/self/cgroup)/threadfork-hostile-$$
    mkdir "$dir" 2>/dev/null && echo "$dir"
}

section_6() {
limit_run fds-12 "ulimit -n 12" --workers 1,2 --parent-rss 0
limit_run fds-24 "ulimit -n 24" --workers 1,2 --parent-rss 0
limit_run address-space-400M "ulimit -v 409600" --workers 1,2 --parent-rss 0,1G
limit_run address-space-120M "ulimit -v 122880" --workers 1,2 --parent-rss 0
mem=$(cgroup_dir memory)
if [ -n "$mem" ]; then
    echo $((200 << 20)) >"$mem/memory.limit_in_bytes"
    limit_run memory-200M "echo \$\$ > $mem/cgroup.procs" --workers 1,2 --parent-rss 0,1G
    rmdir "$mem" 2>/dev/null
else
    echo "limit memory: skipped (needs root and a cgroup v1 memory controller)"
fi
pids=$(cgroup_dir pids)
if [ -n "$pids" ]; then
    echo 48 >"$pids/pids.max"
    limit_run pids-48 "echo \$\$ > $pids/cgroup.procs" --workers 1,64 --parent-rss 0
    rmdir "$pids" 2>/dev/null
else
    echo "limit pids: skipped (needs root and a cgroup v1 pids controller)"
fi
}

# 7. A binary replaced mid-run (what a rebuild in another terminal does): renamed over by
# another program, deleted, or emptied. Every sample must come from the build that started
# the run, or the cases fail naming the changed executable.
section_7() {
swaps=(script deleted emptied)
command -v valgrind >/dev/null && swaps+=(instructions)
for how in "${swaps[@]}"; do
    cases=$((cases + 1))
    out="$work/swap-$how"
    cp "$B" "$work/tf"
    rm -f "$work/new-build-ran"
    flags=(--workload square,empty --model spawn,fork --workers 1 --parent-rss 0 --samples 80
        --sample-time 5ms)
    [ "$how" = instructions ] && flags=(--instructions --workload square --model sequential)
    "$work/tf" run --quick --no-charts "${flags[@]}" --out "$out" >"$out.stdout" 2>"$out.stderr" &
    pid=$!
    sleep 1.5
    case $how in
        deleted) rm "$work/tf" ;;
        emptied) : >"$work/tf.new" ;;
        *) printf '#!/bin/sh\ntouch %s/new-build-ran\nexit 3\n' "$work" >"$work/tf.new" ;;
    esac
    if [ -e "$work/tf.new" ]; then
        chmod +x "$work/tf.new"
        mv "$work/tf.new" "$work/tf"
    fi
    wait_for "$pid" 300 "replaced binary ($how)"
    judge_run "replaced binary ($how)" "$code" "$out" "$out.stderr"
    count_leftovers "$out" "$pid"
    if [ -e "$work/new-build-ran" ]; then
        lost=$((lost + 1))
        echo "  replaced binary ($how): a process of the run started the new build"
    fi
    f=$(find "$out" -name '*.json' | head -1)
    if [ -n "$f" ] && ! python3 - "$f" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))
bad = [f["reason"] for f in r.get("failures", []) if "replaced on disk" not in f["reason"]]
sys.exit(1 if bad else 0)
PY
        lost=$((lost + 1))
        echo "  replaced binary ($how): a case failed for another reason"
    fi
    outcome "replaced binary ($how)" "$out.stderr"
done
rm -f "$work/tf"
}

# 8. A user's mistakes: a crate of mistaken workloads built against this tree (its build
# kept in target/hostile-mistakes between passes).
section_8() {
mkdir -p "$work/mistakes/src"
cat >"$work/mistakes/Cargo.toml" <<TOML
[package]
name = "mistakes"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
threadfork = { path = "$repo" }
TOML
cp "$repo/Cargo.lock" "$work/mistakes/"
cat >"$work/mistakes/src/main.rs" <<'RUST'
//! Workloads that get something wrong, one mistake each.

use std::sync::OnceLock;

use threadfork::{Ctx, Output, Param, Registry, Sample, Size, Verdict, Workload};

/// The pid of the process `main` ran in first: a forked child has another pid and the
/// same memory.
static FIRST: OnceLock<u32> = OnceLock::new();

fn in_forked_child() -> bool {
    FIRST.get().is_some_and(|p| *p != std::process::id())
}

const ITEMS: [Param; 1] = [Param::new("items", 1000).range(1, 1 << 30)];

#[derive(Clone, Copy)]
enum Mistake {
    Rejects,
    VerifyPanics,
    Undeclared,
    PanicsInChild,
    AllocatesInChild,
}

struct Mistaken(Mistake, &'static str);

impl Workload for Mistaken {
    type Shared = ();
    fn name(&self) -> &'static str {
        self.1
    }
    fn op(&self) -> &'static str {
        "items"
    }
    fn params(&self) -> &'static [Param] {
        &ITEMS
    }
    fn size(&self) -> Size {
        Size::Split("items")
    }
    fn run(&self, ctx: &Ctx<'_, ()>) -> Output {
        match self.0 {
            Mistake::Undeclared => {
                std::hint::black_box(ctx.param("itmes"));
            }
            Mistake::PanicsInChild if in_forked_child() => panic!("a forked child fell over"),
            Mistake::AllocatesInChild if in_forked_child() => {
                // 256 MiB written once in each forked child, and kept.
                static HELD: OnceLock<Vec<u8>> = OnceLock::new();
                std::hint::black_box(HELD.get_or_init(|| vec![1u8; 256 << 20]));
            }
            _ => {}
        }
        Output::new(ctx.units(), 0)
    }
    fn verify(&self, _: &Sample<'_, ()>) -> Verdict {
        match self.0 {
            Mistake::Rejects => Verdict::Failed("bin 0 holds 0, expected 7".into()),
            Mistake::VerifyPanics => panic!("the user's verify fell over"),
            _ => Verdict::Passed,
        }
    }
}

/// One tebibyte of shared state: more than any machine's memory.
struct Huge;

impl Workload for Huge {
    type Shared = [u64; 1 << 37];
    fn name(&self) -> &'static str {
        "huge-shared"
    }
    fn op(&self) -> &'static str {
        "items"
    }
    fn params(&self) -> &'static [Param] {
        &ITEMS
    }
    fn size(&self) -> Size {
        Size::Split("items")
    }
    fn run(&self, ctx: &Ctx<'_, [u64; 1 << 37]>) -> Output {
        Output::new(ctx.units(), 0)
    }
    fn verify(&self, _: &Sample<'_, [u64; 1 << 37]>) -> Verdict {
        Verdict::Passed
    }
}

fn main() -> std::process::ExitCode {
    let _ = FIRST.set(std::process::id());
    let registry = Registry::new()
        .with(Mistaken(Mistake::Rejects, "rejects"))
        .with(Mistaken(Mistake::VerifyPanics, "verify-panics"))
        .with(Mistaken(Mistake::Undeclared, "undeclared"))
        .with(Mistaken(Mistake::PanicsInChild, "panics-in-child"))
        .with(Mistaken(Mistake::AllocatesInChild, "allocates-in-child"));
    // The oversized workload stops every command of a binary that registers it: apart.
    if std::env::var_os("MISTAKES_HUGE").is_some() {
        threadfork::run_main(registry.with(Huge))
    } else {
        threadfork::run_main(registry)
    }
}
RUST
if CARGO_TARGET_DIR="$repo/target/hostile-mistakes" cargo build --release --quiet \
    --manifest-path "$work/mistakes/Cargo.toml" 2>"$work/mistakes.log"; then
    M=$repo/target/hostile-mistakes/release/mistakes
    # name | what its stderr must say
    mistakes=(
        "rejects|its check failed: bin 0 holds 0, expected 7"
        "verify-panics|the user's verify fell over"
        "undeclared|itmes"
        "panics-in-child|a forked child fell over"
        "allocates-in-child|"
        "huge-shared|huge-shared"
    )
    for m in "${mistakes[@]}"; do
        IFS='|' read -r name says <<<"$m"
        cases=$((cases + 1))
        out="$work/mist-$name"
        huge=()
        [ "$name" = huge-shared ] && huge=(env MISTAKES_HUGE=1)
        "${huge[@]}" "$M" run --quick --no-charts --workload "$name" --workers 1,2 --samples 3 \
            --model sequential,threads,fork,spawn,process-pool-map --case-timeout 10s \
            --out "$out" >"$out.stdout" 2>"$out.stderr" &
        pid=$!
        wait_for "$pid" 240 "mistake $name"
        judge_run "mistake $name" "$code" "$out" "$out.stderr"
        count_leftovers "$out" "$pid"
        if [ -n "$says" ]; then
            # Once per case at most (5 models × 2 worker counts) in the summary's failed cases
            # or the error line, and the final line keeps it.
            n=$(cat "$out.stdout" "$out.stderr" | grep -c -F "$says")
            if [ "$n" -eq 0 ] || [ "$n" -gt 10 ] || ! tail -1 "$out.stderr" | grep -q -F "$says"; then
                lost=$((lost + 1))
                echo "  mistake $name: \"$says\" on $n stderr line(s), last line: $(tail -1 "$out.stderr")"
            fi
        elif [ "$code" -ne 0 ]; then
            lost=$((lost + 1))
            echo "  mistake $name: a correct workload failed"
        fi
        outcome "mistake $name" "$out.stderr"
    done
else
    panics=$((panics + 1))
    echo "  the mistakes crate did not build:"
    sed 's/^/    /' "$work/mistakes.log" | head -20
fi
}

# 9. A/B faults: a base side whose fork workers abort, a side killed or stopped mid-job, and
# the job interrupted by SIGINT or SIGTERM.
section_9() {
printf '#!/bin/sh\nexec "%s" "$@" --inject-fault abort:fork\n' "$B" >"$work/aborting"
chmod +x "$work/aborting"
for fault in aborting killed stopped INT TERM; do
    cases=$((cases + 1))
    out="$work/abf-$fault"
    base=$B
    samples=200
    [ "$fault" = aborting ] && base=$work/aborting samples=4
    "$B" ab "$base" --quick --workload square,empty --model threads,fork,spawn --workers 1 \
        --parent-rss 0 --samples "$samples" --sample-time 5ms --case-timeout 3s --budget none \
        --json --out "$out" >"$out.stdout" 2>"$out.stderr" &
    pid=$!
    sleep 4
    side=$(pgrep -f "__threadfork-serve $pid" | head -1)
    case $fault in
        killed) kill -KILL "$side" ;;
        stopped) kill -STOP "$side" ;;
        INT | TERM) kill "-$fault" "$pid" ;;
    esac
    wait_for "$pid" 60 "ab, a side $fault"
    want=1
    [ "$fault" = INT ] && want=130
    [ "$fault" = TERM ] && want=143
    [ "$code" -eq "$want" ] || judge_exit "$code" "ab, $fault"
    grep -q "panicked at" "$out.stderr" && { panics=$((panics + 1)); echo "  a raw panic: ab, $fault"; }
    count_leftovers "$out" "$pid"
    # The verdict on stdout and the job's file both load; a side's fault is a failure's reason.
    why=$(python3 - "$out.stdout" "$out" <<'PY'
import glob, json, sys
v = json.load(open(sys.argv[1]))
saved = glob.glob(sys.argv[2] + "/*/ab-*.json")
assert len(saved) == 1 and json.load(open(saved[0]))["keys"] is not None
print(v["failures"][0]["reason"] if v["failures"] else "incomplete" if v["incomplete"] else "complete")
PY
    )
    if [ "$code" -ne "$want" ] || [ -z "$why" ] || [ "$(find "$out" -name '.*' | wc -l)" -gt 0 ]; then
        lost=$((lost + 1))
        echo "  ab, $fault: exit $code (wanted $want), no verdict or no saved job, or temp files"
    fi
    echo "ab, $fault: exit $code, $(wc -l <"$out.stderr") line(s) on stderr; the job: ${why:0:200}"
done
}

for n in ${HOSTILE_SECTIONS:-1 2 3 4 5 6 7 8 9}; do
    "section_$n"
done

# Nothing may have been written outside the folders given.
stray=$(find "$work" -maxdepth 1 -newer "$good" ! -name 'sig*' ! -name 'ns*' ! -name fuzz \
    ! -name good ! -name full ! -name out ! -name stdout ! -name stderr ! -name truncated.json \
    ! -name ps.txt ! -name left.txt ! -name 'lim-*' ! -name 'swap-*' ! -name 'mist*' \
    ! -name 'abf-*' ! -name aborting ! -name new-build-ran \
    ! -path "$work" | wc -l)
outside=$((outside + stray))
echo "hostile pass: $cases cases: $panics panics, $hangs hangs, $leftovers leftover processes, $outside files outside --out, $lost lost runs"
[ $((panics + hangs + leftovers + outside + lost)) -eq 0 ]
