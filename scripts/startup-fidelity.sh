#!/usr/bin/env bash
# Start-up fidelity on this machine: the start-up figures of the README's `run --quick` beside
# those of `run --quick --workload empty` and of a minimal C loop (scripts/c/startup.c, built
# with the system C compiler: `cc -O2 -pthread`), all in one job, ROUNDS times (default 5):
# C loop, run --quick --workload empty, C loop, run --quick, C loop. The C figure set beside
# a run is the mean of the C loops just before and just after it. Each C loop is followed by
# a minimal Rust loop of std's own thread spawn (scripts/rust/std_start.rs, built with
# `rustc -O`): std's spawn, which adds to pthread_create (the threads model's workers start
# with pthread_create itself).
#
#   scripts/startup-fidelity.sh [ROUNDS] [KEEP]
#
# Each run's results file is kept under KEEP (default results/startup-fidelity/MACHINE-ID);
# the table (Markdown) goes to stdout and to KEEP/table.md. After each round,
# scripts/startup-diagnose.sh 100 writes KEEP/diagnose-ROUND.md: that round's system calls per
# thread start (strace, when installed), perf's scheduler events where perf may count, and
# what a start after an idle spell and an unmap beside a thread cost on this host.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cargo build --release --quiet
tf=target/release/threadfork
machine=$($tf machine | awk '$1 == "id" { print $2 }')
keep=${2:-results/startup-fidelity/$machine}
mkdir -p "$keep"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -pthread -o "$work/cstart" scripts/c/startup.c
rustc -O -o "$work/rstart" scripts/rust/std_start.rs

c_loop() { { "$work/cstart" 300 && "$work/rstart" 300; } > "$keep/c-$1.txt"; }
run() {
    local name=$1
    shift
    $tf run --quick --no-charts --out "$work/out-$name" "$@" > /dev/null
    # Kept compressed: every command that reads a results file reads .json.gz.
    gzip -9 -n -c "$work"/out-"$name"/*/*.json > "$keep/$name.json.gz"
}

for r in $(seq 1 "$rounds"); do
    c_loop "$r-0"
    run "round$r-empty" --workload empty
    c_loop "$r-1"
    run "round$r-quick"
    c_loop "$r-2"
    if command -v strace > /dev/null; then
        bash scripts/startup-diagnose.sh 100 > "$keep/diagnose-$r.md" 2>&1 || true
    else
        echo "strace is not installed: no system-call counts this round" > "$keep/diagnose-$r.md"
    fi
done

python3 - "$keep" "$rounds" <<'PY' | tee "$keep/table.md"
import gzip, json, os, statistics, sys
keep, rounds = sys.argv[1], int(sys.argv[2])

def c(name):
    return {k: float(v) for k, v in (l.split() for l in open(f"{keep}/c-{name}.txt"))}

def figures(path):
    d = json.load(gzip.open(path + ".gz") if os.path.exists(path + ".gz") else open(path))
    want = {
        ("fork", "bare", "roundtrip"): "fork_roundtrip",
        ("threads", "pthread", "roundtrip"): "pthread_roundtrip",
        ("fork", "default", "startup"): "fork_startup",
        ("threads", "default", "startup"): "pthread_startup",
    }
    out, big = {}, {}
    for m in d["measurements"]:
        if m["workload"] != "empty":
            continue
        key = (m["model"], m["variant"], m["metric"])
        rss = m["params"].get("parent_rss")
        if key in want and rss == 0:
            out[want[key]] = m["median"]
        if key == ("fork", "default", "startup"):
            big[rss] = m["median"]
    return out, big

labels = [
    ("fork_roundtrip", "bare fork + _exit + wait"),
    ("pthread_roundtrip", "bare pthread create + join"),
    ("fork_startup", "fork start-up (parent 0)"),
    ("pthread_startup", "threads start-up (parent 0)"),
]
us = lambda ns: f"{ns / 1000:.1f} µs"
print("| round | figure | quick | empty | C beside quick | quick ÷ empty | quick ÷ C | empty ÷ C |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
worst = {"qe": 1.0, "qc": 1.0, "ec": 1.0}
per = {k: {"qe": [], "qc": [], "ec": []} for k, _ in labels}
fold = lambda x: max(x, 1 / x)
for r in range(1, rounds + 1):
    e, _ = figures(f"{keep}/round{r}-empty.json")
    q, big = figures(f"{keep}/round{r}-quick.json")
    ce = {k: (c(f"{r}-0")[k] + c(f"{r}-1")[k]) / 2 for k in e}
    cq = {k: (c(f"{r}-1")[k] + c(f"{r}-2")[k]) / 2 for k in q}
    for k, label in labels:
        qe, qc, ec = q[k] / e[k], q[k] / cq[k], e[k] / ce[k]
        worst["qe"] = max(worst["qe"], fold(qe))
        worst["qc"] = max(worst["qc"], fold(qc))
        worst["ec"] = max(worst["ec"], fold(ec))
        per[k]["qe"].append(qe)
        per[k]["qc"].append(qc)
        per[k]["ec"].append(ec)
        print(f"| {r} | {label} | {us(q[k])} | {us(e[k])} | {us(cq[k])} | {qe:.2f} | {qc:.2f} | {ec:.2f} |")
    top = max(big)
    print(f"| {r} | fork start-up at {top / 2**30:.0f} GiB ÷ at 0 (quick) | | | | {big[top] / big[0]:.0f}× | | |")
for k, label in labels:
    m = {r: statistics.median(v) for r, v in per[k].items()}
    print(f"| median | {label} | | | | {m['qe']:.2f} | {m['qc']:.2f} | {m['ec']:.2f} |")
print()
print(f"Widest gap, either way: quick vs empty {worst['qe']:.2f}× (must be ≤ 1.15); "
      f"quick vs C {worst['qc']:.2f}×, empty vs C {worst['ec']:.2f}× (must be ≤ 1.25).")
within = lambda key, bound: sum(fold(x) <= bound for k, _ in labels for x in per[k][key])
n = rounds * len(labels)
print(f"Per-round ratios within their bound: quick vs empty {within('qe', 1.15)} of {n}; "
      f"quick vs C {within('qc', 1.25)} of {n}; empty vs C {within('ec', 1.25)} of {n}.")
print()
print("Threads start-up (parent 0) against std's own spawn (scripts/rust/std_start.rs) beside it:")
print()
print("| round | quick | empty | std beside quick | quick ÷ std | empty ÷ std | std ÷ C |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for r in range(1, rounds + 1):
    e, _ = figures(f"{keep}/round{r}-empty.json")
    q, _ = figures(f"{keep}/round{r}-quick.json")
    both = lambda k, a, b: (c(f"{r}-{a}")[k] + c(f"{r}-{b}")[k]) / 2
    if "std_thread_startup" not in c(f"{r}-0"):
        continue
    sq, se = both("std_thread_startup", 1, 2), both("std_thread_startup", 0, 1)
    std_c = sq / both("pthread_startup", 1, 2)
    k = "pthread_startup"
    print(f"| {r} | {us(q[k])} | {us(e[k])} | {us(sq)} | {q[k] / sq:.2f} | {e[k] / se:.2f} | {std_c:.2f} |")
PY
