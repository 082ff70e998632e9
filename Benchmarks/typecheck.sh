#!/usr/bin/env bash
# Type-checking cost of long Sluice chains (DESIGN.md §4): a regression here makes user code slow to
# compile or fail with "unable to type-check this expression in reasonable time".
#
# Builds the root package's Sluice module, then type-checks three generated files against it:
#   empty.swift    `import Sluice` only: the baseline (module loading, process start-up)
#   pipe20.swift   Pipeline(0..<10) | 20 `op` stages with annotated closures
#   pipeReduce3.swift / pipeForEach3.swift  W1's three stages (`$0` closures, a buffer each) in
#                  one expression ending in `.reduce(0, +)` / `.forEach { … }`
#   builder20.swift  Flow<Int, Int> { 20 builder stages using $0 }
#   pipeBranches.swift / builderBranches.swift  a 10-stage flow with a broadcast and a route
#                  (two branches each), in each style
#   pipeMixed20.swift / builderMixed20.swift  20 stages mixing the stream operators, the timed
#                  stages (batch within, weighted batch, debounce), a rate limit, a drop buffer,
#                  the railway and an observer (synchronous or asynchronous: two overloads), in
#                  each style
# and prints, per chain, the type-check time of the function holding it
# (-debug-time-function-bodies) and the wall time of swiftc minus the empty file's.
#
# Usage:  Benchmarks/typecheck.sh
# Environment:
#   TYPECHECK_RUNS=3           runs per file; the minimum wall time is reported
#   TYPECHECK_LIMIT_MS=…       fail when a chain's function-body time exceeds this many ms
#   TYPECHECK_SCRATCH_PATH=…   SwiftPM scratch path for the root build (default: $ROOT/.build)
#   SWIFTC=…                   the compiler (default: swiftc)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
RUNS="${TYPECHECK_RUNS:-3}"
LIMIT_MS="${TYPECHECK_LIMIT_MS:-}"
SCRATCH="${TYPECHECK_SCRATCH_PATH:-$ROOT/.build}"
SWIFTC="${SWIFTC:-swiftc}"
STAGES=20

die() { echo "typecheck.sh: $*" >&2; exit 1; }
now_ns() { date +%s%N; }

command -v "$SWIFTC" >/dev/null || die "no '$SWIFTC' on PATH"

# 1. Build the library (only the Sluice target and what it depends on).
echo "Building Sluice (swift build --package-path $ROOT --target Sluice) …"
if ! swift build --package-path "$ROOT" --scratch-path "$SCRATCH" --target Sluice >"${TMPDIR:-/tmp}/sluice-typecheck-build.log" 2>&1; then
    tail -n 30 "${TMPDIR:-/tmp}/sluice-typecheck-build.log" >&2
    die "the root package does not build (full log: ${TMPDIR:-/tmp}/sluice-typecheck-build.log)"
fi
BIN="$(swift build --package-path "$ROOT" --scratch-path "$SCRATCH" --show-bin-path)"

# 2. Find the directory holding Sluice.swiftmodule (SwiftPM ≥ 6 puts modules in <bin>/Modules).
MODULE_DIR=""
for candidate in "$BIN/Modules" "$BIN"; do
    if [ -e "$candidate/Sluice.swiftmodule" ]; then MODULE_DIR="$candidate"; break; fi
done
if [ -z "$MODULE_DIR" ]; then
    found="$(find "$BIN" -maxdepth 3 -name 'Sluice.swiftmodule' -print -quit 2>/dev/null || true)"
    [ -n "$found" ] && MODULE_DIR="$(dirname "$found")"
fi
[ -n "$MODULE_DIR" ] || die "no Sluice.swiftmodule under $BIN"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-typecheck.XXXXXX")"
status=0
# Keep the generated sources when something failed, so the diagnostics' paths stay readable.
trap 'if [ "$status" -eq 0 ]; then rm -rf "$WORK"; else echo "Generated sources kept in $WORK" >&2; fi' EXIT

# 3. Generate the sources.
cat >"$WORK/empty.swift" <<'EOF'
import Sluice
EOF

{
    echo 'import Sluice'
    echo
    echo 'func pipeChain() {'
    echo '    let pipeline = Pipeline(0..<10)'
    for i in $(seq 1 "$STAGES"); do
        if [ $((i % 2)) -eq 1 ]; then
            echo "        | op.map { (x: Int) -> Int in x + $i }"
        else
            echo "        | op.filter { (x: Int) -> Bool in x > -$i }"
        fi
    done
    echo '    _ = pipeline'
    echo '}'
} >"$WORK/pipe20.swift"

# W1's three stages with `$0` closures and a buffer each, in one expression ending in a terminal
# whose closure is inferred: `.reduce(0, +)` (`+` has many overloads) and `.forEach { … }`. A
# second overload of either terminal (a synchronous closure) made the first fail to type-check
# in reasonable time and the second take about 250 ms.
cat >"$WORK/pipeReduce3.swift" <<'EOF'
import Sluice

func pipeReduceChain(_ n: Int) async throws -> Int {
    try await (Pipeline(0..<n)
        | op.map { $0 * 2 }.buffer(64)
        | op.filter { $0 % 3 == 0 }.buffer(64)
        | op.map { $0 + 1 }.buffer(64))
        .reduce(0, +)
}
EOF

cat >"$WORK/pipeForEach3.swift" <<'EOF'
import Sluice

func pipeForEachChain(_ n: Int) async throws -> Int {
    var sum = 0
    try await (Pipeline(0..<n)
        | op.map { $0 * 2 }.buffer(64)
        | op.filter { $0 % 3 == 0 }.buffer(64)
        | op.map { $0 + 1 }.buffer(64))
        .forEach { sum += $0 }
    return sum
}
EOF

{
    echo 'import Sluice'
    echo
    echo 'func builderChain() {'
    echo '    let flow = Flow<Int, Int> {'
    for i in $(seq 1 "$STAGES"); do
        if [ $((i % 2)) -eq 1 ]; then
            echo "        Map { \$0 + $i }"
        else
            echo "        Filter { \$0 > -$i }"
        fi
    done
    echo '    }'
    echo '    _ = flow'
    echo '}'
} >"$WORK/builder20.swift"

# A 10-stage flow with two branches (a broadcast and a route), in each style (issue 13: < 150 ms).
cat >"$WORK/pipeBranches.swift" <<'EOF2'
import Sluice

func pipeBranches() {
    let flow: Flow<Int, Int> = op.map { (x: Int) -> Int in x + 1 }
        | op.filter { (x: Int) -> Bool in x > -2 }
        | op.broadcast(
            op.map { (x: Int) -> Int in x + 3 } | op.filter { (x: Int) -> Bool in x > -4 },
            op.map { (x: Int) -> Int in x + 5 })
        | op.route(by: { (x: Int) -> Bool in x % 2 == 0 }, [
            true: op.map { (x: Int) -> Int in x + 6 } | op.filter { (x: Int) -> Bool in x > -7 },
            false: op.map { (x: Int) -> Int in x + 8 },
        ])
        | op.map { (x: Int) -> Int in x + 9 }
        | op.filter { (x: Int) -> Bool in x > -10 }
    _ = flow
}
EOF2

cat >"$WORK/builderBranches.swift" <<'EOF2'
import Sluice

func builderBranches() {
    let flow = Flow<Int, Int> {
        Map { $0 + 1 }
        Filter { $0 > -2 }
        Broadcast {
            Flow { Map { $0 + 3 }; Filter { $0 > -4 } }
            Map { $0 + 5 }
        }
        Route(by: { $0 % 2 == 0 }) {
            When(true) { Map { $0 + 6 }; Filter { $0 > -7 } }
            When(false) { Map { $0 + 8 } }
        }
        Map { $0 + 9 }
        Filter { $0 > -10 }
    }
    _ = flow
}
EOF2
# The mixed chains: every kind of stage issue 14 added, between plain ones. In the builder, a
# closure after a stage that changed the element type names its parameter's type (Docs/TypeChecking.md).
cat >"$WORK/pipeMixed20.swift" <<'EOF'
import Sluice

func pipeMixedChain() {
    let limiter = RateLimiter(rate: 1_000, burst: 10)
    let pipeline = Pipeline(0..<10)
        | op.map { (x: Int) -> Int in x + 1 }
        | op.filter { (x: Int) -> Bool in x > -2 }
        | op.scan(0) { (acc: Int, x: Int) -> Int in acc + x }
        | op.distinct(window: 100)
        | op.prefix(1_000)
        | op.dropFirst(1)
        | op.map { (x: Int) -> Int in x * 2 }.rateLimited(limiter)
        | op.debounce(for: .milliseconds(1))
        | op.map { (x: Int) -> Int in x - 1 }.buffer(16, whenFull: .dropOldest)
        | op.batch(4, within: .seconds(1))
        | op.map { (xs: [Int]) -> Int in xs.count }
        | op.drop { (x: Int) -> Bool in x < 0 }
        | op.batch(maxWeight: 8, within: .seconds(1)) { (x: Int) -> Int in x }
        | op.map { (xs: [Int]) -> Int in xs.reduce(0, +) }
        | op.tryFilter { (x: Int) -> Bool in x >= 0 }
        | op.successes()
        | op.compactMap { (x: Int) -> Int? in x }
        | op.prefix { (x: Int) -> Bool in x < 1_000_000 }
        | op.map { (x: Int) -> Int in x + 20 }.observe { event in _ = event.stage }
        | op.filter { (x: Int) -> Bool in x != 7 }
    _ = pipeline.timeout(.seconds(60)).idleTimeout(.seconds(5))
}
EOF

cat >"$WORK/builderMixed20.swift" <<'EOF'
import Sluice

func builderMixedChain() {
    let limiter = RateLimiter(rate: 1_000, burst: 10)
    let flow = Flow<Int, Int> {
        Map { $0 + 1 }
        Filter { $0 > -2 }
        Scan(0) { $0 + $1 }
        Distinct<Int>(window: 100)
        Prefix<Int>(1_000)
        DropFirst<Int>(1)
        Map { $0 * 2 }.rateLimited(limiter)
        Debounce<Int>(for: .milliseconds(1))
        Map { $0 - 1 }.buffer(16, whenFull: .dropOldest)
        Batch<Int>(4, within: .seconds(1))
        Map { (xs: [Int]) in xs.count }
        DropWhile { $0 < 0 }
        Batch<Int>(maxWeight: 8, within: .seconds(1)) { $0 }
        Map { (xs: [Int]) in xs.reduce(0, +) }
        TryFilter { $0 >= 0 }
        Successes<Int>()
        CompactMap { Optional($0) }
        Prefix(while: { $0 < 1_000_000 })
        Map { $0 + 20 }.observe { _ in }
        Filter { $0 != 7 }
    }
    _ = flow
}
EOF

# 4. Type-check. Prints "<min wall ms> <function-body ms>"; on failure prints the diagnostics.
typecheck() {
    local file="$1" best="" body="0" start end ms out
    for _ in $(seq 1 "$RUNS"); do
        start="$(now_ns)"
        if ! out="$("$SWIFTC" -typecheck -parse-as-library -swift-version 6 \
            -I "$MODULE_DIR" -module-cache-path "$WORK/module-cache" \
            -Xfrontend -debug-time-function-bodies "$file" 2>&1)"; then
            echo "FAILED"
            echo "$out" | grep -v -E '^[0-9.]+ms\s' | head -n 20 >&2
            return 0
        fi
        end="$(now_ns)"
        ms=$(( (end - start) / 1000000 ))
        if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then
            best="$ms"
            # Lines look like "12.34ms\t/path/file.swift:3:6\tglobal function pipeChain()".
            body="$(echo "$out" | awk -v f="$(basename "$file")" \
                '$1 ~ /ms$/ && index($0, f) { sub(/ms$/, "", $1); total += $1 } END { printf "%.1f", total + 0 }')"
        fi
    done
    echo "$best $body"
}

echo "Module dir: $MODULE_DIR"
echo "Type-checking ($RUNS runs each, minimum wall time) …"
read -r base_ms _ <<<"$(typecheck "$WORK/empty.swift")"
if [ "$base_ms" = "FAILED" ]; then status=1; die "even an empty file importing Sluice fails to type-check"; fi
echo "  empty file importing Sluice: ${base_ms} ms wall (baseline)"

for name in pipe20 pipeReduce3 pipeForEach3 builder20 pipeMixed20 builderMixed20 pipeBranches builderBranches; do
    result="$(typecheck "$WORK/$name.swift")"
    if [ "$result" = "FAILED" ]; then
        echo "  $name: FAILED to type-check (diagnostics above)"
        status=1
        continue
    fi
    read -r wall_ms body_ms <<<"$result"
    case "$name" in *Branches) stages="10 (2 branches)" ;; *3) stages=3 ;; *) stages="$STAGES" ;; esac
    printf '  %-16s %16s stages: %8s ms function body, %6d ms wall over baseline\n' \
        "$name" "$stages" "$body_ms" "$((wall_ms - base_ms))"
    if [ -n "$LIMIT_MS" ] && awk -v b="$body_ms" -v l="$LIMIT_MS" 'BEGIN { exit !(b > l) }'; then
        echo "  $name: over the limit of $LIMIT_MS ms"
        status=1
    fi
done
exit "$status"
