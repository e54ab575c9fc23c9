#!/usr/bin/env bash
# "Did my change make it slower?" Builds two revisions of this repository and measures them
# side by side, sample by sample, on this machine with `threadfork ab` — no stored baseline
# needed, so it works on a fresh CI runner. Prints ab's Markdown report and exits with its
# code: 0 no regression, 1 a regression or a failed case, 2 unusable input.
#
#   scripts/ab.sh BASE_REV [HEAD_REV] [-- ab flags...]
#
# BASE_REV, HEAD_REV: anything git names (a branch, a tag, a commit, HEAD~1). Without
# HEAD_REV the head is the working tree as it is, uncommitted changes included. Each revision
# is built in a git worktree under target/ab/ with a target folder of its own (kept, so the
# next call rebuilds only what changed). ab flags default to the gated set: square, counter
# and empty on sequential, threads, fork and spawn, quick.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ $# -ge 1 ] || { echo "usage: scripts/ab.sh BASE_REV [HEAD_REV] [-- ab flags...]" >&2; exit 2; }
base_rev=$1
shift
head_rev=
if [ $# -ge 1 ] && [ "$1" != "--" ]; then
    head_rev=$1
    shift
fi
[ "${1:-}" = "--" ] && shift
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--quick --workload square,counter,empty --model sequential,threads,fork,spawn)

# build REV → prints the path of that revision's threadfork binary
build() {
    local rev=$1 sha dir
    sha=$(git rev-parse --verify --quiet "$rev^{commit}") || {
        echo "scripts/ab.sh: '$rev' is not a revision of this repository" >&2
        exit 2
    }
    dir=$root/target/ab/src-$sha
    if [ ! -d "$dir" ]; then
        git worktree add --detach --force "$dir" "$sha" > /dev/null 2>&1 || {
            rm -rf "$dir"
            git worktree prune
            git worktree add --detach --force "$dir" "$sha" > /dev/null
        }
    fi
    # One target folder per side: base and head builds never replace each other's binary.
    (cd "$dir" && CARGO_TARGET_DIR="$root/target/ab/build-$2" cargo build --release --quiet --bin threadfork) >&2
    echo "$root/target/ab/build-$2/release/threadfork"
}

# Each revision resolved once: a commit made meanwhile changes nothing this call measures.
resolve() {
    git rev-parse --verify --quiet "$1^{commit}" || {
        echo "scripts/ab.sh: '$1' is not a revision of this repository" >&2
        exit 2
    }
}
base_rev=$(resolve "$base_rev")
[ -z "$head_rev" ] || head_rev=$(resolve "$head_rev")
base_bin=$(build "$base_rev" base)
if [ -n "$head_rev" ]; then
    head_bin=$(build "$head_rev" head)
else
    cargo build --release --quiet --bin threadfork >&2
    head_bin=$root/target/release/threadfork
fi
# The two binaries side by side in one folder: the same file system serves both builds' spawns.
pair=$root/target/ab/pair
mkdir -p "$pair"
cp "$base_bin" "$pair/base"
cp "$head_bin" "$pair/head"
echo "ab: base ${base_rev:0:12}, head ${head_rev:+${head_rev:0:12}}${head_rev:-working tree}" >&2
set +e
"$pair/head" ab "$pair/base" --markdown --out "${AB_OUT:-$root/results/ab}" "${flags[@]}"
code=$?
set -e
exit $code
