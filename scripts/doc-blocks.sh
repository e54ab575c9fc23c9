#!/usr/bin/env bash
# Every ```sh block of README.md and docs/ is run here, in the repository's root with the
# release build's `threadfork` first on PATH, unless the line before it says why not:
#   <!-- not run in CI: REASON -->
# A block marked without a reason, or one that fails, fails the script. Prints one line per
# block.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_TARGET_DIR:-$PWD/target}/release:$PATH"
command -v threadfork > /dev/null || { echo "doc-blocks: build threadfork first (cargo build --release)"; exit 1; }
ran=0 skipped=0 failed=0
for f in README.md docs/*.md docs/studies/*.md; do
    n=0
    while IFS= read -r -d '' block; do
        n=$((n + 1))
        reason=${block%%$'\n'*}
        body=${block#*$'\n'}
        if [ "$reason" = "-" ]; then
            out=$(mktemp)
            if (cd "$PWD" && bash -euo pipefail -c "$body") > "$out" 2>&1; then
                echo "ran      $f block $n"
                ran=$((ran + 1))
            else
                echo "FAILED   $f block $n:"
                sed 's/^/    /' "$out" | tail -20
                failed=$((failed + 1))
            fi
            rm -f "$out"
        elif [ -z "$reason" ]; then
            echo "FAILED   $f block $n: marked as not run, with no reason"
            failed=$((failed + 1))
        else
            echo "not run  $f block $n: $reason"
            skipped=$((skipped + 1))
        fi
    done < <(python3 - "$f" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
i, prev = 0, ""
while i < len(lines):
    if lines[i].strip() == "```sh":
        j = i + 1
        while lines[j].strip() != "```":
            j += 1
        m = re.match(r"<!-- not run in CI:(.*)-->", prev.strip())
        reason = m.group(1).strip() if m else "-"
        sys.stdout.write(reason + "\n" + "\n".join(lines[i + 1:j]) + "\0")
        i = j
    if lines[i].strip():
        prev = lines[i]
    i += 1
PY
)
done
echo "doc-blocks: $ran run, $skipped not run (each with its reason), $failed failed"
[ "$failed" = 0 ]
