#!/usr/bin/env bash
# Why a thread start-up reads slower in threadfork than in a minimal C loop on one host and not
# on another (3.05x the C loop on the Intel Xeon VM, 1.16-1.23x on the AMD EPYC VM): the system
# calls and scheduler events behind each, counted side by side on this machine.
#
#   scripts/startup-diagnose.sh [THREADS]
#
# For the C loop (scripts/c/startup.c, THREADS rounds) and for threadfork's bare pthread loop
# and threads start-up (run --quick --workload empty --model threads, in its lean parent):
#   - strace -c -f: the system calls, by count, per thread started;
#   - perf stat (when perf may read the counters): context switches, CPU migrations, page faults
#     and cycles per thread started;
#   - scripts/c/idle_wake.c: a thread start back to back against one after the other CPU went
#     idle, and an unmap alone against one beside a running thread (a TLB flush by interrupt).
# Prints its tables; run it on each kind of host and put them side by side
# (scripts/startup-fidelity.sh keeps one per round).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-300}
cargo build --release --quiet --bin threadfork
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -pthread -o "$work/cstart" scripts/c/startup.c

# The C loop starts 2 threads and 2 forks per round, plus the blocks' unkept starts.
strace -f -c -o "$work/c.strace" "$work/cstart" "$rounds" > /dev/null
# Thread starts of a traced run: its kept samples, and one unkept start before each.
starts_of() {
    python3 - "$1" <<'PY'
import glob, json, sys
f = glob.glob(sys.argv[1] + "/*/*.json")[0]
r = json.load(open(f))
print(sum(2 * len(m["samples"]) for m in r["measurements"] if m["model"] == "threads"))
PY
}
strace -f -c -o "$work/tf.strace" target/release/threadfork run --quick --no-charts \
    --workload empty --model threads --parent-rss 0 --out "$work/tf" > /dev/null 2>&1 || true
starts=$(starts_of "$work/tf")
# perf_line NAME STARTS COMMAND...: perf's counts of COMMAND per start.
perf_line() {
    local name=$1 n=$2
    shift 2
    if perf stat -x, -e context-switches,cpu-migrations,page-faults,cycles -o "$work/$name.perf" "$@" > /dev/null 2>&1; then
        awk -F, -v n="$n" '$3 != "" {printf "%s %.1f  ", $3, $1 / n}' "$work/$name.perf"
    else
        printf "perf not permitted here"
    fi
}
echo "## System calls per thread started (strace -c -f)"
echo
python3 - "$work/c.strace" "$((rounds * 2 + 2 * (rounds / 10 + 1)))" "$work/tf.strace" "$starts" <<'PY'
import sys
def calls(path):
    out = {}
    for line in open(path):
        p = line.split()
        if len(p) >= 5 and p[-1].isidentifier() and p[3].isdigit():
            out[p[-1]] = int(p[3])
    return out
c, cn, t, tn = calls(sys.argv[1]), int(sys.argv[2]), calls(sys.argv[3]), int(sys.argv[4])
names = sorted(set(c) | set(t), key=lambda k: -(t.get(k, 0) / max(tn, 1) + c.get(k, 0) / cn))
print("| call | C loop, per start | threadfork empty/threads run, per start |")
print("|---|---:|---:|")
for k in names[:15]:
    print(f"| {k} | {c.get(k, 0) / cn:.2f} | {t.get(k, 0) / max(tn, 1):.2f} |")
print(f"\n(C loop: {cn} starts of threads and forks; threadfork: {tn} thread starts counted in its results, its whole run traced)")
PY
echo
echo "## Scheduler events (perf stat), per start"
echo
echo "- C loop (per start of a thread or a fork): $(perf_line c "$((rounds * 4))" "$work/cstart" "$rounds")"
perf_run() {
    perf stat -x, -e context-switches,cpu-migrations,page-faults,cycles -o "$work/tf.perf" \
        target/release/threadfork run --quick --no-charts --workload empty --model threads \
        --parent-rss 0 --out "$work/tf3" > /dev/null 2>&1 || return 1
    n=$(starts_of "$work/tf3")
    awk -F, -v n="$n" '$3 != "" {printf "%s %.1f  ", $3, $1 / n}' "$work/tf.perf"
}
echo "- threadfork run (whole run, per thread start): $(perf_run || echo "perf not permitted here")"
echo
echo "## A thread start after the other CPU went idle, and an unmap beside a running thread"
echo
echo "(scripts/c/idle_wake.c, ${rounds} of each, interleaved; median and 90th percentile)"
echo
cc -O2 -pthread -o "$work/idle_wake" scripts/c/idle_wake.c
"$work/idle_wake" "$rounds" | python3 -c '
import sys
v = {n: (int(m), int(p)) for n, m, p in (l.split() for l in sys.stdin)}
print("| what | median | p90 | ÷ its reference |")
print("|---|---:|---:|---:|")
for name, ref in [("start_back_to_back", None), ("start_after_spin_200us", "start_back_to_back"),
                  ("start_after_sleep_50us", "start_back_to_back"), ("start_after_sleep_1ms", "start_back_to_back"),
                  ("munmap_alone", None), ("munmap_beside_thread", "munmap_alone")]:
    m, p = v[name]
    k = f"{m / v[ref][0]:.2f}" if ref else ""
    print(f"| {name} | {m / 1000:.1f} µs | {p / 1000:.1f} µs | {k} |")
'
echo
echo "A start after a sleep far above one back to back: waking an idle vCPU is what costs here,"
echo "and a process that pauses between its starts (to probe, to read a pipe) pays it where a"
echo "tight C loop does not. An unmap beside a thread far above one alone: each unmap flushes the"
echo "other CPU's TLB through an interrupt, and std's spawn unmaps a signal stack per thread."
