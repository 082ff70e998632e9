import AsyncAlgorithms
import Benchmark

/// W4 — backpressure: a fast producer (`0..<n`) → a slower consumer (16 rounds of `mix` per item, about
/// 35–45 ns) → sum, with at most 64 items between them. Runs at 5,000,000 and 500,000 items and reports
/// `peakMemoryResident`: with backpressure the peak must not depend on the item count.
///
/// Baseline: swift-async-algorithms' `AsyncChannel` between two tasks (rendezvous, i.e. a bound of 0
/// rather than 64: the closest bounded channel in the peer libraries). Reference without backpressure:
/// an unbounded `AsyncStream`, whose peak memory grows with the item count.
enum W4Backpressure {
    static let large = 5_000_000
    static let small = 500_000
    static let bound = 64
    static let consumerRounds = 16

    /// The reference checksums, computed once per process with the plain loop (≈ 0.2 s for 5 M).
    static let expectedLarge = plainLoop(large)
    static let expectedSmall = plainLoop(small)

    static func expected(_ n: Int) -> Int {
        switch n {
        case large: expectedLarge
        case small: expectedSmall
        default: plainLoop(n)
        }
    }

    static func register() {
        // One measured run of the 5 M variants: a rendezvous channel moves only a few hundred thousand
        // items per second on this machine.
        let largeConfig = Benchmark.Configuration.workload(
            warmup: 0, maxIterations: 1, maxDuration: .seconds(30), peakMemory: true)
        let smallConfig = Benchmark.Configuration.workload(
            warmup: 0, maxIterations: 3, maxDuration: .seconds(5), peakMemory: true)

        for (n, label, config) in [(large, "5M", largeConfig), (small, "500k", smallConfig)] {
            Benchmark("W4 backpressure \(label): plain loop", configuration: config) { _ in
                verify(plainLoop(identity(n)), equals: expected(n), "W4 plain loop")
            } setup: {
                _ = expected(n)
            }
            Benchmark("W4 backpressure \(label): AsyncChannel", configuration: config) { _ in
                let result = await onChosenExecutor { await asyncChannel(n) }
                verify(result, equals: expected(n), "W4 AsyncChannel")
            } setup: {
                _ = expected(n)
            }
            Benchmark("W4 backpressure \(label): AsyncStream unbounded (no backpressure)", configuration: config) { _ in
                let result = await onChosenExecutor { await unboundedAsyncStream(n) }
                verify(result, equals: expected(n), "W4 AsyncStream unbounded")
            } setup: {
                _ = expected(n)
            }
        }
    }

    /// The consumer's per-item work.
    static func consume(_ x: Int) -> Int {
        hashRounds(x, rounds: consumerRounds)
    }

    static func plainLoop(_ n: Int) -> Int {
        var sum = 0
        for x in 0..<n {
            sum &+= consume(x)
        }
        return sum
    }

    /// Producer task → `AsyncChannel` → the caller's task consumes.
    static func asyncChannel(_ n: Int) async -> Int {
        let channel = AsyncChannel<Int>()
        return await withTaskGroup(of: Void.self, returning: Int.self) { group in
            group.addTask {
                for x in 0..<n { await channel.send(x) }
                channel.finish()
            }
            var sum = 0
            for await x in channel {
                sum &+= consume(x)
            }
            return sum
        }
    }

    /// Producer task → unbounded `AsyncStream` → the caller's task consumes. The producer never waits.
    static func unboundedAsyncStream(_ n: Int) async -> Int {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        return await withTaskGroup(of: Void.self, returning: Int.self) { group in
            group.addTask {
                for x in 0..<n { continuation.yield(x) }
                continuation.finish()
            }
            var sum = 0
            for await x in stream {
                sum &+= consume(x)
            }
            return sum
        }
    }
}
