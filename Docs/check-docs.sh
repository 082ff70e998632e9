#!/usr/bin/env bash
# Builds the Sluice module's DocC documentation and fails on any warning.
#
# The library has no package dependencies, so swift-docc-plugin is added to a scratch copy of the
# package only (never to Package.swift). Needs network access the first time (to fetch the plugin).
#
#   Docs/check-docs.sh                    # scratch copy in a temporary directory, removed afterwards
#   SCRATCH=/tmp/docc-check OUT=/tmp/docc-out Docs/check-docs.sh   # keep both (faster reruns)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CLEANUP=()
trap 'for d in "${CLEANUP[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done' EXIT
if [ -z "${SCRATCH:-}" ]; then SCRATCH=$(mktemp -d); CLEANUP+=("$SCRATCH"); fi
if [ -z "${OUT:-}" ]; then OUT=$(mktemp -d); CLEANUP+=("$OUT"); fi
PLUGIN_VERSION=${PLUGIN_VERSION:-1.5.0}

# The copy: the sources without build products (a kept scratch copy keeps its .build), with the
# plugin added as a dependency.
mkdir -p "$SCRATCH"
find "$SCRATCH" -mindepth 1 -maxdepth 1 ! -name .build ! -name Package.resolved -exec rm -rf {} +
tar -C "$ROOT" -cf - --exclude='./.build*' --exclude='./.swiftpm' --exclude='./.git' \
    --exclude='./Benchmarks' --exclude='./Integrations' --exclude='./Package.resolved' . | tar -C "$SCRATCH" -xf -
python3 - "$SCRATCH/Package.swift" "$PLUGIN_VERSION" <<'PY'
import re, sys
path, version = sys.argv[1], sys.argv[2]
s = open(path).read()
dep = f'    dependencies: [.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "{version}")],\n'
if 'swift-docc-plugin' not in s:
    s, n = re.subn(r'(\n    targets: \[)', '\n' + dep.rstrip('\n') + r'\1', s, count=1)
    if n != 1:
        sys.exit("check-docs.sh: could not find `targets:` in Package.swift to add the plugin")
open(path, 'w').write(s)
PY

LOG="$SCRATCH/docc.log"
set +e
(cd "$SCRATCH" && swift package --allow-writing-to-directory "$OUT" \
    generate-documentation --target Sluice --output-path "$OUT" --warnings-as-errors) >"$LOG" 2>&1
status=$?
set -e
# Every diagnostic DocC printed, with the scratch path mapped back to this checkout.
diagnostics=$(grep -E '(warning|error):' "$LOG" | sed "s|$SCRATCH/|$ROOT/|g" | sort -u || true)
if [ $status -ne 0 ] || [ -n "$diagnostics" ]; then
    [ -n "$diagnostics" ] && echo "$diagnostics" || tail -n 40 "$LOG"
    echo "check-docs: FAILED ($(printf '%s\n' "$diagnostics" | grep -c . || true) diagnostics, exit $status)"
    exit 1
fi
# DocC resolves a topic link whose overload disambiguation matches nothing to the enclosing type,
# without a warning. So: every symbol the catalog's topic lists (Sluice.md) name must appear, as
# itself, in the module page's topic lists as often as the catalog names it.
python3 - "$OUT" Sources/Sluice/Sluice.docc <<'PY'
import collections, glob, json, re, sys
archive, catalog = sys.argv[1], sys.argv[2]
def base(path):   # "Pipeline/forEach(isolation:_:)-45q5g" -> "pipeline/foreach(isolation:_:)"
    path = re.sub(r"-[0-9a-z]{4,6}$", "", path) if not path.endswith(")") or ")-" in path else path
    path = re.sub(r"(\))-.*$", r"\1", path)
    return path.lower()
named = collections.Counter()
for md in [f"{catalog}/Sluice.md"]:
    for line in open(md):
        m = re.match(r"^- ``([^`]+)``\s*$", line)
        if m and "/" in m.group(1):
            named[base(m.group(1))] += 1
listed = collections.Counter()
for path in [f"{archive}/data/documentation/sluice.json"]:
    for section in json.load(open(path)).get("topicSections", []):
        for i in section.get("identifiers", []):
            listed[base(i.split("/documentation/Sluice/", 1)[-1])] += 1
bad = [f"{b}: named {n} times in the catalog's topics, listed {listed[b]} times in the archive"
       for b, n in sorted(named.items()) if listed[b] < n]
if bad:
    print("\n".join(bad))
    sys.exit("check-docs: FAILED (a topic link resolved to another page: fix its disambiguation)")
PY
if [ ${#CLEANUP[@]} -gt 0 ] && [[ " ${CLEANUP[*]} " == *" $OUT "* ]]; then
    echo "check-docs: OK, no warnings (set OUT=<dir> to keep the documentation archive)"
else
    echo "check-docs: OK, no warnings (documentation archive in $OUT)"
fi
