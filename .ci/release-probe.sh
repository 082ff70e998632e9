#!/usr/bin/env bash
# Release-build check (issue 10, item 5): invalid configuration is rejected with its message under
# `-O` too. Builds a scratch package (outside the library's products) that depends on this
# repository by path, in release mode, and runs it once per invalid configuration; each run must
# fail and print the expected message on stderr. A valid configuration must run normally.
#
#   .ci/release-probe.sh            # scratch package and build in .build-probe/ (kept for reruns)
#   SLUICE_PROBE_DIR=/tmp/p .ci/release-probe.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="/opt/swift/usr/bin:$PATH"
work="${SLUICE_PROBE_DIR:-$repo/.build-probe}"
pkg="$work/package"
mkdir -p "$pkg/Sources/sluice-probe"

# A path dependency's identity is its directory's name.
identity="$(basename "$repo")"
cat > "$pkg/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sluice-probe",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "$repo")],
    targets: [
        .executableTarget(
            name: "sluice-probe",
            dependencies: [.product(name: "Sluice", package: "$identity")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
SWIFT

cat > "$pkg/Sources/sluice-probe/main.swift" <<'SWIFT'
// Runs the configuration named on the command line; an invalid one must stop the process with
// its message on stderr.
import Sluice
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let map = op.map { (x: Int) in x }
let cases: [String: @Sendable () async throws -> Void] = [
    "valid": {
        let out = try await (Pipeline(1...6) | map.named("fetch").workers(2).buffer(4) | op.batch(4)
            | op.map { (xs: [Int]) in xs.reduce(0, +) }.retry(.attempts(2, backoff: .fixed(.milliseconds(1), jitter: 0.5)))
                .timeout(.seconds(5))).collect()
        print("valid: \(out)")
    },
    "hugeValues": {
        let group = try await (Pipeline(0..<10) | (map | op.batch(Int.max)).named("g")).collect()
        let measured = try await (Pipeline(0..<10) | op.batch(Int.max)).metrics(PipelineMetrics()).collect()
        let huge = Pipeline(0..<10) | map.buffer(BufferSize(capacity: Int.max - 1))
        let timed = try await (Pipeline(0..<3) | op.map { (x: Int) async in x }.timeout(.seconds(Int64.max))).collect()
        print("hugeValues: \(group == measured) \(huge.inFlightBound == Int.max) \(try await huge.collect().count) \(timed)")
    },
    "workers0": { print(map.named("fetch").workers(0).stages) },
    "workersHuge": { print(map.named("fetch").workers(Int.max).stages) },
    "bufferNegative": { print(map.named("parse").buffer(-1).stages) },
    "batch0": { print((op.batch(0) as Flow<Int, [Int]>).stages) },
    "parallelBatch": { print((op.batch(3) as Flow<Int, [Int]>).workers(4).stages) },
    "nameEmpty": { print(map.named("").stages) },
    "window0": { print(map.named("fetch").workers(4).ordered(window: 0).stages) },
    "maxWeight0": { print(op.map { (x: [UInt8]) in x }.named("download").buffer(maxWeight: 0) { $0.count }.stages) },
    "readAheadNegative": { print(Pipeline([[UInt8]()]).readAhead(maxWeight: -5) { $0.count }.stages) },
    "attempts0": { print(map.named("fetch").retry(.attempts(0)).stages) },
    "jitter3": { print(map.named("fetch").retry(.attempts(2, backoff: .fixed(.seconds(1), jitter: 3))).stages) },
    "jitterNaN": { print(map.named("fetch").retry(.attempts(2, backoff: .fixed(.seconds(1), jitter: .nan))).stages) },
    "delayNegative": { print(map.named("fetch").retry(.attempts(2, backoff: .fixed(.seconds(-1)))).stages) },
    "backoffJitter3": { print(Backoff.fixed(.seconds(1), jitter: 3).delay(beforeRetry: 1)) },
    "timeout0": { print(map.named("fetch").timeout(.zero).stages) },
    "retryOnBatch": { print((op.batch(3) as Flow<Int, [Int]>).retry(.attempts(2)).stages) },
    "poolThreads0": { print(BlockingPool(threads: 0, name: "db").threads) },
    "poolThreadsHuge": { print(BlockingPool(threads: Int.max, name: "db").threads) },
    "progress0": { print(PipelineMetrics(progressEvery: .zero) { _ in }.snapshot()) },
    "batchWithin0": { print((op.batch(10, within: .zero) as Flow<Int, [Int]>).stages) },
    "batchWeight0": { print((op.batch(maxWeight: 0) { (x: Int) in x }).stages) },
    "debounce0": { print((op.debounce(for: .zero) as Flow<Int, Int>).stages) },
    "timedInGroup": { print((map | op.debounce(for: .seconds(1))).named("g").stages) },
    "dropBuffer0": { print(map.buffer(0, whenFull: .dropNewest).stages) },
    "runTimeout0": { print(Pipeline([1]).timeout(.zero).stages) },
    "idleTimeout0": { print(Pipeline([1]).idleTimeout(.zero).stages) },
    "rate0": { print(RateLimiter(rate: 0).rate) },
    "burst0": { print(RateLimiter(rate: 1, burst: 0).rate) },
]

let arguments = CommandLine.arguments
guard arguments.count == 2, let run = cases[arguments[1]] else {
    print("usage: sluice-probe <\(cases.keys.sorted().joined(separator: "|"))>")
    exit(2)
}
try await run()
SWIFT

echo "== release build of the probe ($pkg)"
swift build --package-path "$pkg" --scratch-path "$work/build" -c release 2>&1 | tail -n 3
probe="$(swift build --package-path "$pkg" --scratch-path "$work/build" -c release --show-bin-path)/sluice-probe"

# Crash reports add nothing here and are slow to symbolicate.
export SWIFT_BACKTRACE=enable=no
failures=0

out="$("$probe" valid 2>&1)" || { echo "FAIL valid: exit $?: $out"; failures=$((failures + 1)); }
if [[ "$out" != *"valid: [10, 11]"* ]]; then echo "FAIL valid: got '$out'"; failures=$((failures + 1)); else echo "ok   valid"; fi

out="$("$probe" hugeValues 2>&1)" || { echo "FAIL hugeValues: exit $?: $out"; failures=$((failures + 1)); }
if [[ "$out" != *"hugeValues: true true 10 [0, 1, 2]"* ]]; then echo "FAIL hugeValues: got '$out'"; failures=$((failures + 1)); else echo "ok   hugeValues"; fi

# case|expected message on stderr
while IFS='|' read -r name expected; do
    status=0
    stderr="$("$probe" "$name" 2>&1 >/dev/null)" || status=$?
    if [[ $status -eq 0 ]]; then
        echo "FAIL $name: exited 0, expected a failure"; failures=$((failures + 1))
    elif [[ "$stderr" != *"$expected"* ]]; then
        echo "FAIL $name: exit $status, stderr lacks '$expected':"; printf '%s\n' "$stderr" | head -n 5 | sed 's/^/       /'
        failures=$((failures + 1))
    else
        echo "ok   $name (exit $status)"
    fi
done <<'CASES'
workers0|workers must be >= 1, got 0 (stage 'fetch')
workersHuge|workers must be <= 10000, got 9223372036854775807 (stage 'fetch')
bufferNegative|buffer must be >= 0, got -1 (stage 'parse')
batch0|batch size must be >= 1, got 0 (stage 'batch')
parallelBatch|workers must be 1 for stage 'batch', got 4
nameEmpty|name must not be empty (stage 'map')
window0|window must be >= 1, got 0 (stage 'fetch')
maxWeight0|maxWeight must be >= 1, got 0 (stage 'download')
readAheadNegative|maxWeight must be >= 1, got -5 (source)
attempts0|attempts must be >= 1, got 0 (stage 'fetch')
jitter3|jitter must be in 0...1, got 3.0 (stage 'fetch')
jitterNaN|jitter must be in 0...1, got nan (stage 'fetch')
delayNegative|delay must be >= 0, got -1.0 seconds (stage 'fetch')
backoffJitter3|jitter must be in 0...1, got 3.0 (Backoff)
timeout0|timeout must be > 0, got 0.0 seconds (stage 'fetch')
retryOnBatch|retry cannot apply to stage 'batch': it groups consecutive items
poolThreads0|threads must be >= 1, got 0 (BlockingPool 'db')
poolThreadsHuge|threads must be <= 4096, got 9223372036854775807 (BlockingPool 'db')
progress0|progress interval must be > 0, got 0.0 seconds
batchWithin0|batch within must be > 0, got 0.0 seconds (stage 'batch')
batchWeight0|batch maxWeight must be >= 1, got 0 (stage 'batch')
debounce0|debounce interval must be > 0, got 0.0 seconds (stage 'debounce')
timedInGroup|stage 'debounce' acts on time and cannot be inside a fragment
dropBuffer0|buffer size must be >= 1 with a drop policy, got 0 (stage 'buffer')
runTimeout0|timeout must be > 0, got 0.0 seconds (pipeline)
idleTimeout0|idleTimeout must be > 0, got 0.0 seconds (pipeline)
rate0|rate must be finite and > 0, got 0.0 (rate limiter)
burst0|burst must be >= 1, got 0 (rate limiter)
CASES

if [[ $failures -ne 0 ]]; then echo "release probe: $failures failure(s)"; exit 1; fi
echo "release probe OK"
