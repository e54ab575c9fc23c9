#!/usr/bin/env bash
# The sequential model at 1, 8 and 64 shares on this machine, beside the host effect that
# sets them apart: a minimal C loop (scripts/c/first_call.c, built with the system C
# compiler: `cc -O2 -mno-red-zone`) that times the first call of square's loop after 20 ms of
# other code against the call right after it, ROUNDS times (default 3):
# C loop, threadfork run, C loop, …
#
#   scripts/sequential-shares.sh [ROUNDS] [KEEP]
#
# Each run's results file and C output is kept under KEEP (default
# results/sequential-shares/MACHINE-ID); the table (Markdown) goes to stdout and KEEP/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release --quiet
tf=target/release/threadfork
machine=$($tf machine | awk '$1 == "id" { print $2 }')
keep=${2:-results/sequential-shares/$machine}
mkdir -p "$keep"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -mno-red-zone -o "$work/first_call" scripts/c/first_call.c

for r in $(seq 1 "$rounds"); do
    "$work/first_call" 30 16000 > "$keep/c-$r.txt"
    $tf run --workload square --model sequential --workers 1,8,64 --samples 30 --no-charts \
        --out "$work/out-$r" > /dev/null
    cp "$work"/out-"$r"/*/*.json "$keep/round$r.json"
done

python3 - "$keep" "$rounds" << 'PY' | tee "$keep/table.md"
import json, statistics, sys

keep, rounds = sys.argv[1], int(sys.argv[2])
print("| round | seq 8 ÷ 1 (paired) | seq 64 ÷ 1 (paired) | C: first ÷ second call after a float loop | after sleep | after the same loop |")
print("|---:|---:|---:|---:|---:|---:|")
for r in range(1, rounds + 1):
    run = json.load(open(f"{keep}/round{r}.json"))
    tput = {m["workers"]: m["samples"] for m in run["measurements"]
            if m["model"] == "sequential" and m["metric"] == "throughput"}
    paired = lambda n: statistics.median(b / a for a, b in zip(tput[1], tput[n]))
    c = {}
    for line in open(f"{keep}/c-{r}.txt"):
        name, _, pair, _, _ = line.split()
        c[name] = float(pair)
    print(f"| {r} | {paired(8):.3f} | {paired(64):.3f} | {c['float']:.3f} | {c['sleep']:.3f} | {c['same']:.3f} |")
PY
