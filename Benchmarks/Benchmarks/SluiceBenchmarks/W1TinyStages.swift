import AsyncAlgorithms
import Benchmark

/// W1 — tiny stages: `0..<1_000_000 → map x*2 → filter x % 3 == 0 → map x+1 → sum`.
///
/// The stages do almost nothing, so this measures the per-item cost of moving items between stages.
/// Baselines: a plain loop (the floor), one task running an `AsyncSequence` chain, and one task per
/// stage hand-wired with unbounded `AsyncStream`s or with `AsyncChannel`s, all in one task group.
enum W1TinyStages {
    static let count = 1_000_000

    /// The reference checksum, computed once per process with the plain loop.
    static let expected = plainLoop(count)

    static func register() {
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))
        let slowConfig = Benchmark.Configuration.workload(warmup: 0, maxIterations: 3, maxDuration: .seconds(8))

        Benchmark("W1 tiny stages: plain loop", configuration: config) { _ in
            verify(plainLoop(identity(count)), equals: expected, "W1 plain loop")
        } setup: {
            _ = expected
        }
        Benchmark("W1 tiny stages: AsyncSequence chain, one task", configuration: config) { _ in
            let result = await onChosenExecutor { await asyncSequenceChain(count) }
            verify(result, equals: expected, "W1 AsyncSequence chain")
        } setup: {
            _ = expected
        }
        Benchmark("W1 tiny stages: AsyncStream, task per stage", configuration: slowConfig) { _ in
            let result = await onChosenExecutor { await asyncStreamPerStage(count) }
            verify(result, equals: expected, "W1 AsyncStream per stage")
        } setup: {
            _ = expected
        }
        Benchmark("W1 tiny stages: AsyncChannel, task per stage", configuration: slowConfig) { _ in
            let result = await onChosenExecutor { await asyncChannelPerStage(count) }
            verify(result, equals: expected, "W1 AsyncChannel per stage")
        } setup: {
            _ = expected
        }
    }

    static func plainLoop(_ n: Int) -> Int {
        var sum = 0
        for x in 0..<n {
            let doubled = x * 2
            if doubled % 3 == 0 {
                sum &+= doubled + 1
            }
        }
        return sum
    }

    /// One task, no channels: swift-async-algorithms' `.async` over the range, then the stdlib's
    /// sequential `AsyncSequence` operators.
    static func asyncSequenceChain(_ n: Int) async -> Int {
        await (0..<n).async
            .map { $0 * 2 }
            .filter { $0 % 3 == 0 }
            .map { $0 + 1 }
            .reduce(0, &+)
    }

    /// One child task per stage, connected by unbounded `AsyncStream`s (no backpressure: the source
    /// can run arbitrarily far ahead). The caller's task sums.
    static func asyncStreamPerStage(_ n: Int) async -> Int {
        let (sourced, toDouble) = AsyncStream.makeStream(of: Int.self)
        let (doubled, toFilter) = AsyncStream.makeStream(of: Int.self)
        let (filtered, toIncrement) = AsyncStream.makeStream(of: Int.self)
        let (incremented, toSum) = AsyncStream.makeStream(of: Int.self)
        return await withTaskGroup(of: Void.self, returning: Int.self) { group in
            group.addTask {
                for x in 0..<n { toDouble.yield(x) }
                toDouble.finish()
            }
            group.addTask {
                for await x in sourced { toFilter.yield(x * 2) }
                toFilter.finish()
            }
            group.addTask {
                for await x in doubled where x % 3 == 0 { toIncrement.yield(x) }
                toIncrement.finish()
            }
            group.addTask {
                for await x in filtered { toSum.yield(x + 1) }
                toSum.finish()
            }
            var sum = 0
            for await x in incremented { sum &+= x }
            return sum
        }
    }

    /// One child task per stage, connected by swift-async-algorithms' `AsyncChannel` (rendezvous:
    /// every send waits for its receive). The caller's task sums.
    static func asyncChannelPerStage(_ n: Int) async -> Int {
        let sourced = AsyncChannel<Int>()
        let doubled = AsyncChannel<Int>()
        let filtered = AsyncChannel<Int>()
        let incremented = AsyncChannel<Int>()
        return await withTaskGroup(of: Void.self, returning: Int.self) { group in
            group.addTask {
                for x in 0..<n { await sourced.send(x) }
                sourced.finish()
            }
            group.addTask {
                for await x in sourced { await doubled.send(x * 2) }
                doubled.finish()
            }
            group.addTask {
                for await x in doubled where x % 3 == 0 { await filtered.send(x) }
                filtered.finish()
            }
            group.addTask {
                for await x in filtered { await incremented.send(x + 1) }
                incremented.finish()
            }
            var sum = 0
            for await x in incremented { sum &+= x }
            return sum
        }
    }
}
