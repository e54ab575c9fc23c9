#!/usr/bin/env bash
# What `threadfork ab` decides on a busy machine: the jobs of scripts/ab-sensitivity.sh with a
# load beside them for their whole length, kept under KEEP/<load>/<setting>/.
#
#   scripts/ab-load.sh LOAD JOBS KEEP [SETTING...]
#   scripts/ab-load.sh --judge KEEP/<load>
#
# LOAD is
#   onoff  a busy loop pinned to the last allowed CPU, switched on and off every 2 s;
#   build  `cargo build --release -j2` of threadfork's own tree (a crate of a few dozen
#          dependencies), in a copy with a target folder of its own that is removed and built
#          again in a loop: cache, memory bandwidth and short processes, as on a shared runner.
#
# The load runs in a process group of its own and is killed with it when the script ends,
# however it ends. The table (Markdown, with each setting's exit codes 0 · 1 · 3) goes to
# stdout; the must-holds are in docs/studies/ab-sensitivity.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ "${1:-}" = "--judge" ]; then
    exec bash scripts/ab-sensitivity.sh --judge "${2:?usage: scripts/ab-load.sh --judge KEEP/LOAD}"
fi
load=${1:?usage: scripts/ab-load.sh onoff|build JOBS KEEP [SETTING...]}
jobs=${2:?usage: scripts/ab-load.sh LOAD JOBS KEEP [SETTING...]}
keep=${3:?usage: scripts/ab-load.sh LOAD JOBS KEEP [SETTING...]}
shift 3

# The build under test, made before any load starts, and kept aside: the load's own build
# must not touch it.
cargo build --release --quiet
aside=$(mktemp -d)
cp target/release/threadfork "$aside/threadfork"

cpu=$(taskset -pc $$ | awk -F': ' '{print $2}' | tr ',' '\n' | tail -1 | awk -F- '{print $NF}')
case "$load" in
onoff)
    # shellcheck disable=SC2016
    loader=(bash -c 'while :; do timeout --foreground 2 taskset -c "$0" sh -c "while :; do :; done" || true; sleep 2; done' "$cpu")
    ;;
build)
    tree="$aside/tree"
    mkdir -p "$tree"
    tar cf - --exclude=./target --exclude=./.git --exclude=./results . | (cd "$tree" && tar xf -)
    loader=(bash -c 'cd "$0" && while :; do rm -rf target; cargo build --release -j2 --quiet > /dev/null 2>&1 || true; done' "$tree")
    ;;
*)
    echo "ab-load: LOAD is onoff or build, not '$load'" >&2
    exit 2
    ;;
esac

# setsid: the load is a group of its own, killed whole.
setsid "${loader[@]}" &
group=$!
stop() {
    kill -- -"$group" 2> /dev/null || true
    wait "$group" 2> /dev/null || true
    rm -rf "$aside"
}
trap stop EXIT
trap 'exit 130' INT TERM
# Let the load reach its stride (the build past its first crates) before the first job.
sleep 20
AB_BINARY="$aside/threadfork" bash "$root/scripts/ab-sensitivity.sh" "$jobs" "$keep/$load" "$@"
