#!/usr/bin/env bash
# Checks the pages threadfork wrote, as a reader's browser shows them. For each DIR holding an
# index.html (a run's folder, a `report` folder, an ab page's folder):
#   - every image, link and stylesheet the page names on disk exists, and every SVG parses;
#   - a headless Chromium loads the page with no script error in its console;
#   - its screenshot (DIR/../<name>.screenshot.png, or SHOTS=folder) is a real picture.
# Exit 0 when every page passes, 1 naming each fault, 2 on bad input.
#
#   scripts/check-pages.sh results/vm-amd-epyc/20261122T064322Z-756e8ba8
#   SHOTS=/tmp/shots scripts/check-pages.sh DIR1 DIR2
set -u
if [ $# -eq 0 ]; then
    echo "usage: $0 DIR... (folders holding an index.html)" >&2
    exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "check-pages: no Chromium found (Debian: apt-get install chromium)" >&2
    exit 2
fi
faults=0
for dir in "$@"; do
    page="$dir/index.html"
    before=$faults
    if [ ! -f "$page" ]; then
        echo "check-pages: $page: no such page" >&2
        exit 2
    fi
    # What the page names on disk, and whether each SVG is well-formed XML.
    missing=$(python3 - "$page" <<'PY'
import html.parser, os, sys, urllib.parse
import xml.dom.minidom
page = sys.argv[1]
base = os.path.dirname(page)
class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith(("http:", "https:", "#", "data:", "mailto:")):
                self.refs.append(urllib.parse.unquote(v.split("#")[0]))
p = Refs()
p.feed(open(page, encoding="utf-8").read())
for r in p.refs:
    path = os.path.join(base, r)
    if not os.path.isfile(path):
        print(f"{page}: names {r}, which does not exist")
    elif path.endswith(".svg"):
        try:
            xml.dom.minidom.parse(path)
        except Exception as e:
            print(f"{page}: {r} is no well-formed SVG ({e})")
if not p.refs:
    print(f"{page}: names no image at all")
PY
)
    if [ -n "$missing" ]; then
        echo "$missing"
        faults=$((faults + $(echo "$missing" | wc -l)))
    fi
    shots=${SHOTS:-$(dirname "$dir")}
    mkdir -p "$shots"
    shot="$shots/$(basename "$dir").screenshot.png"
    rm -f "$shot"
    log=$(timeout 90 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --enable-logging=stderr --v=0 --window-size=1400,2400 \
        --screenshot="$shot" "file://$(realpath "$page")" 2>&1)
    errors=$(echo "$log" | grep -E 'CONSOLE.*"(Uncaught|.*[Ee]rror)' || true)
    if [ -n "$errors" ]; then
        echo "$page: script errors in the browser:"
        echo "$errors" | sed 's/^/  /'
        faults=$((faults + 1))
    fi
    size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
    if [ "$size" -lt 20000 ]; then
        echo "$page: the browser's screenshot is missing or blank ($size bytes)"
        faults=$((faults + 1))
    elif [ "$faults" -eq "$before" ]; then
        echo "ok  $page ($(echo "$log" | grep -c . ) browser log lines; screenshot $shot, $((size / 1024)) KiB)"
    fi
done
if [ "$faults" -gt 0 ]; then
    echo "check-pages: $faults fault(s)" >&2
    exit 1
fi
