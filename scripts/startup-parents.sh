#!/usr/bin/env bash
# Where a start's run-to-run noise comes from: the lean parent, the moment, or the run's copy
# of the binary. C copies of threadfork's binary (as each run makes its own), then R rounds;
# in each round one lean parent per copy, in a shuffled order, each taking S starts of the
# empty workload with its bare loop between them (`__threadfork-lean`, as `run` drives it).
# Of each lean parent's median (in logs): the copies' means, the rounds' means, and what is
# left, each beside what the leftover alone would give the means. A level held by each lean
# parent shows as a large leftover; one held by the copy, as copies' means above their
# leftover-alone figure (docs/studies/history.md). A few seconds; run it on a quiet machine.
#
#   scripts/startup-parents.sh [COPIES] [ROUNDS]     # default 8 8
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-8}
rounds=${2:-8}
for n in "$copies" "$rounds"; do
    case $n in '' | *[!0-9]* | 0 | 1) echo "startup-parents: COPIES and ROUNDS must be counts, 2 or more" >&2; exit 2 ;; esac
done
cargo build --release --quiet --bin threadfork
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model | figure | one lean parent's median, σ | copies' means, σ (leftover alone) | rounds' means, σ (leftover alone) | leftover, σ |"
echo "|---|---|---:|---:|---:|---:|"
for spec in "threads 60" "fork 30" "spawn 15"; do
    set -- $spec
    python3 - target/release/threadfork "$work" "$copies" "$rounds" "$2" "$1" <<'PY'
import json, math, os, random, shutil, statistics as st, subprocess, sys
exe0, work, copies, rounds, samples, model = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6]
bare = "pthread" if model == "threads" else "bare"
exes = []
for c in range(copies):
    exe = os.path.join(work, f"threadfork-{c}")
    shutil.copy(exe0, exe)
    exes.append(exe)
def lean(exe):
    spec = dict(workload="empty", params=[], model=model, parent_rss=0, parent_threads=0, warmup=1,
                samples=samples, fill_ms=0, timeout_ms=10000, exe=exe, slowdown=None, fault=None)
    p = subprocess.run([exe, "__threadfork-lean", str(os.getpid())], input=json.dumps(spec) + "\n",
                       capture_output=True, text=True, check=True)
    a = json.loads([l for l in p.stdout.splitlines() if l != "progress"][-1])
    return math.log(st.median(a["startup"])), math.log(st.median(dict(a["bare"])[bare]))
rng = random.Random(1)
x = []
for r in range(rounds):
    order = list(range(copies))
    rng.shuffle(order)
    row = [None] * copies
    for c in order:
        row[c] = lean(exes[c])
    x.append(row)
for i, figure in ((0, "start"), (1, f"bare loop ({bare})")):
    v = [[x[r][c][i] for c in range(copies)] for r in range(rounds)]
    g = st.mean(sum(v, []))
    cm = [st.mean(v[r][c] for r in range(rounds)) for c in range(copies)]
    rm = [st.mean(v[r]) for r in range(rounds)]
    left = (sum((v[r][c] - cm[c] - rm[r] + g) ** 2 for r in range(rounds) for c in range(copies))
            / ((rounds - 1) * (copies - 1))) ** 0.5
    pct = lambda s: f"{100 * s:.1f}%"
    print(f"| {model} | {figure} | {pct(st.stdev(sum(v, [])))} | {pct(st.stdev(cm))} ({pct(left / rounds ** 0.5)}) "
          f"| {pct(st.stdev(rm))} ({pct(left / copies ** 0.5)}) | {pct(left)} |")
PY
done
