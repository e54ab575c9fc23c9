#!/usr/bin/env bash
# What `threadfork ab` catches on this machine: JOBS jobs per setting, each the head build
# against the base build (here: one build against itself, the slowdown injected on the head
# side with the hidden --inject-slowdown), judged as CI would — caught means exit 1 with the
# injected group regressed; for A/A any alarm counts. Every job's results file is kept under
# KEEP/<setting>/, so a long study can span sessions: jobs already kept are not run again,
# and `--judge` tabulates what is kept without running anything.
#
#   scripts/ab-sensitivity.sh JOBS KEEP [SETTING...]     (default: every setting below)
#   scripts/ab-sensitivity.sh --judge KEEP
#
# AB_BINARY=path measures that build instead of building this tree.
#
# SETTING is one of the names below. The table (Markdown) goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

# name | injected on the head side | ab flags (quick, with the gated set unless said; every
# model takes longer than the default budget, which would leave most keys too few pairs).
# Injections on different targets share a job (mix-*): each is judged on its own group, and
# a regressed row outside every injected target counts as a false alarm.
SET="--quick --workload square,counter,empty --model sequential,threads,fork,spawn"
settings=(
    "aa||$SET"
    "aa-every-model||--quick --workload square,counter,empty --budget none"
    "mix-a|code=5,start=10,lock=20|$SET"
    "mix-b|code=2,start=5,lock=10|$SET"
    "mix-c|code=10,start=20|$SET"
    "code2|code=2|$SET"
    "code5|code=5|$SET"
    "code10|code=10|$SET"
    "start5|start=5|$SET"
    "start10|start=10|$SET"
    "start20|start=20|$SET"
    "lock10|lock=10|$SET"
    "lock20|lock=20|$SET"
)

judge_only=0
if [ "${1:-}" = "--judge" ]; then
    judge_only=1
    keep=${2:?usage: scripts/ab-sensitivity.sh --judge KEEP}
    jobs=0
    shift 2
else
    jobs=${1:?usage: scripts/ab-sensitivity.sh JOBS KEEP [SETTING...]}
    keep=${2:?usage: scripts/ab-sensitivity.sh JOBS KEEP [SETTING...]}
    shift 2
fi
wanted=("$@")

if [ "$judge_only" = 0 ]; then
    # AB_BINARY: a build kept aside (a long study goes on while the tree changes).
    binary=${AB_BINARY:-target/release/threadfork}
    [ -n "${AB_BINARY:-}" ] || cargo build --release --quiet
    # Two copies of one build, side by side in one folder (the same file system for both).
    pair=$(mktemp -d)
    trap 'rm -rf "$pair"' EXIT
    cp "$binary" "$pair/base"
    cp "$binary" "$pair/head"
    for s in "${settings[@]}"; do
        IFS='|' read -r name inject flags <<< "$s"
        if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " =~ " $name " ]]; then
            continue
        fi
        dir=$keep/$name
        mkdir -p "$dir"
        have=$( (ls "$dir"/*/ab-*.json* 2> /dev/null || true) | wc -l)
        for ((j = have; j < jobs; j++)); do
            extra=()
            [ -n "$inject" ] && extra=(--inject-slowdown "$inject")
            # shellcheck disable=SC2086
            "$pair/head" ab "$pair/base" $flags "${extra[@]}" --out "$dir" --json > /dev/null 2>> "$dir/stderr.log" || true
            echo "$name: job $((j + 1)) of $jobs done" >&2
        done
        # Kept compressed (every command that reads a job reads .json.gz).
        find "$dir" -name 'ab-*.json' -exec gzip -9 -n {} +
        [ -s "$dir/stderr.log" ] || rm -f "$dir/stderr.log"
    done
fi

# Every kept job is judged again by this build (`ab --judge`): a change to the judging is
# measured on the same pairs.
[ "$judge_only" = 0 ] || cargo build --release --quiet
python3 - "$keep" target/release/threadfork << 'EOF'
import glob, gzip, json, os, subprocess, sys

keep, binary = sys.argv[1], sys.argv[2]
# What must regress for a job to count as caught: (workload, models, metrics).
targets = {
    "code": ("square", None, {"throughput"}),
    "start": ("empty", {"fork", "spawn"}, {"startup", "roundtrip"}),
    "lock": ("counter", {"fork", "spawn"}, {"throughput"}),
}

def hit(row, target):
    workload, models, metrics = target
    label = row["label"]
    if not label.startswith(workload + " / ") or row["metric"] not in metrics:
        return False
    parts = label.split(" / ")
    # "w / model / …", "w / variant / every model" and "w / every model"
    model = "every model" if parts[-1] == "every model" else parts[1]
    if models is not None and model not in models and model != "every model":
        return False
    if workload == "counter" and "pshared" not in label and "every" not in label:
        return False
    return row["call"] == "regressed"

def target_rows(r, target):
    workload, models, metrics = target
    return [x for x in r["rows"] if x["group"] and x["label"].startswith(workload + " / ")
            and x["metric"] in metrics and x["worse_pct"] is not None]

def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None

print("| setting | jobs | injected | caught | change seen (median of the target group) | other alarms | exit 0 · 1 · 3 | pairs retaken (median) | job time (median, max) |")
print("|---|---:|---|---:|---|---:|---|---:|---|")
for name in sorted(os.listdir(keep)):
    files = sorted(glob.glob(os.path.join(keep, name, "*", "ab-*.json"))
                   + glob.glob(os.path.join(keep, name, "*", "ab-*.json.gz")))
    if not files:
        continue
    jobs, times, alarms = 0, [], 0
    exits, retaken = {0: 0, 1: 0, 3: 0}, []
    caught, seen = {}, {}
    for f in files:
        r = json.load(gzip.open(f) if f.endswith(".gz") else open(f))
        judged = subprocess.run([binary, "ab", "--judge", f, "--json"], capture_output=True, text=True)
        again = json.loads(judged.stdout)
        r["rows"], r["failures"] = again["rows"], again["failures"]
        jobs += 1
        times.append(r["duration_s"])
        exits[again["exit"]] = exits.get(again["exit"], 0) + 1
        retaken.append(r.get("interference", {}).get("retaken"))
        inj = r["head"].get("injected") or ""
        parts = [p.split("=") for p in inj.split(",") if p]
        regressed = [x for x in r["rows"] if x["call"] == "regressed"]
        wanted = [targets[t] for t, _ in parts]
        other = [x for x in regressed if not any(hit(x, t) for t in wanted)]
        alarms += int(bool(other) or bool(r["failures"]))
        for t, pct in parts:
            key = f"{t} +{pct}%"
            caught[key] = caught.get(key, 0) + int(any(hit(x, targets[t]) for x in regressed))
            group = target_rows(r, targets[t])
            if group:
                seen.setdefault(key, []).append(max(x["worse_pct"] for x in group))
    times.sort()
    timing = f"{median(times):.0f} s, {times[-1]:.0f} s"
    codes = " · ".join(str(exits[c]) for c in (0, 1, 3))
    # Jobs saved before pairs were retaken carry no count.
    counted = [x for x in retaken if x is not None]
    spoilt = str(median(counted)) if counted else "–"
    tail = f"{alarms} of {jobs} | {codes} | {spoilt} | {timing} |"
    if not caught:
        print(f"| {name} | {jobs} | – | – | – | {tail}")
    for key in caught:
        change = f"+{median(seen[key]):.1f}%" if key in seen else "–"
        print(f"| {name} | {jobs} | {key} | {caught[key]} of {jobs} | {change} | {tail}")
EOF
