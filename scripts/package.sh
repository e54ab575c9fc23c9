#!/usr/bin/env bash
# The crate as a user downloads it: `cargo package` of this checkout, unpacked into DIR.
# Prints the unpacked folder's path (what a fresh crate's `threadfork = { path = … }` names).
#
#   scripts/package.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: scripts/package.sh DIR" >&2; exit 2; }
cargo package --quiet --allow-dirty --no-verify
crate=$(ls -t "${CARGO_TARGET_DIR:-target}"/package/threadfork-*.crate | head -1)
tar xzf "$crate" -C "$1"
ls -d "$1"/threadfork-*/
