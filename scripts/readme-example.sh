#!/usr/bin/env bash
# Tries README.md's "## Your own workload" example exactly as a new user would: a fresh
# `cargo new` crate, the ```toml block's lines added to its Cargo.toml (the threadfork line
# pointed at this checkout's `cargo package`, unpacked: what a user downloads), the ```rust
# block as its bench file, then
#   cargo bench --bench NAME -- run --quick --out DIR
# and checks the results file: the workload on sequential, threads, fork and spawn at every
# default worker count, every figure verified, no failure, the charts and index.html drawn.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
section=$(awk '/^## Your own workload/ {f = 1; next} /^## / {f = 0} f' README.md)
block() { printf '%s\n' "$section" | awk -v lang="$1" '$0 == "```" lang {f = 1; next} /^```/ {if (f) exit} f'; }
toml=$(block toml)
rust=$(block rust)
name=$(printf '%s\n' "$toml" | sed -n 's/^name = "\(.*\)"/\1/p' | head -n 1)
[ -n "$toml" ] && [ -n "$rust" ] && [ -n "$name" ] || { echo "README example not found"; exit 1; }
pkg=${THREADFORK_PACKAGE:-$(bash scripts/package.sh "$work")}
cd "$work"
cargo new --quiet --vcs none mine
cd mine
printf '%s\n' "$toml" | sed "s#^threadfork = .*#threadfork = { path = \"$pkg\" }#" >> Cargo.toml
grep -q "path = \"$pkg\"" Cargo.toml || { echo "README example: no threadfork line to point at the package"; exit 1; }
mkdir -p benches
printf '%s\n' "$rust" > "benches/$name.rs"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo bench --quiet --bench "$name" -- run --quick --out "$work/out"
# A second build of the user's crate finds threadfork fresh: its build script names no file
# that a package lacks (cargo would run it, and build threadfork again, every time).
again=$(cargo bench --no-run --bench "$name" -v 2>&1)
grep -q "Fresh threadfork" <<< "$again" ||
    { echo "README example: threadfork was built again on an unchanged crate"; echo "$again"; exit 1; }
python3 - "$work/out" <<'PY'
import glob, json, os, sys
files = glob.glob(os.path.join(sys.argv[1], "*", "*.json"))
assert len(files) == 1, files
r = json.load(open(files[0]))
assert r["schema"] == "threadfork/results/v2", r["schema"]
assert not r["failures"], r["failures"]
tp = [m for m in r["measurements"] if m["metric"] == "throughput"]
models = {m["model"] for m in tp}
pools = {f"{p}-{q}" for p in ("thread-pool", "rayon", "process-pool")
         for q in ("map", "as-completed", "submit-wait")}
assert models == {"sequential", "threads", "fork", "spawn"} | pools, models
cores = len(r["machine"]["allowed_cpus"])
assert max(m["workers"] for m in tp) == cores, (cores, [m["workers"] for m in tp])
assert all(m["verified"] for m in r["measurements"]), "an unverified figure"
charts = os.path.splitext(files[0])[0]
assert os.path.exists(os.path.join(charts, "index.html"))
assert glob.glob(os.path.join(charts, "*-throughput.svg")), os.listdir(charts)
print(f"README example: {len(tp)} throughput cases on {sorted(models)}, all verified; {files[0]}")
PY
