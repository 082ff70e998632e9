// The Sluice implementations of the workloads, written against the public API of DESIGN.md §2.
//

import Benchmark
import Sluice

enum SluiceVariants {
    static func register() {
        registerW1()
        registerW2()
        registerW3()
        registerW4()
        registerW5()
        registerW9()
    }

    // MARK: W1 — tiny stages

    /// The executor may fuse the three cheap synchronous stages into one task (§3.4).
    static func w1Fused(_ n: Int) async throws -> Int {
        try await (Pipeline(0..<n) | op.map { $0 * 2 } | op.filter { $0 % 3 == 0 } | op.map { $0 + 1 })
            .reduce(0, +)
    }

    /// An explicit buffer keeps every stage on its own task: the hand-wired channel pipelines' shape.
    static func w1TaskPerStage(_ n: Int) async throws -> Int {
        try await (Pipeline(0..<n)
            | op.map { $0 * 2 }.buffer(64)
            | op.filter { $0 % 3 == 0 }.buffer(64)
            | op.map { $0 + 1 }.buffer(64))
            .reduce(0, +)
    }

    static func registerW1() {
        let n = W1TinyStages.count
        let config = Benchmark.Configuration.workload(maxIterations: 10, maxDuration: .seconds(3))
        Benchmark("W1 tiny stages: Sluice (fusable)", configuration: config) { _ in
            let result = try await onChosenExecutor { try await w1Fused(n) }
            verify(result, equals: W1TinyStages.expected, "W1 Sluice fusable")
        } setup: {
            _ = W1TinyStages.expected
        }
        Benchmark("W1 tiny stages: Sluice, buffer(64) per stage", configuration: config) { _ in
            let result = try await onChosenExecutor { try await w1TaskPerStage(n) }
            verify(result, equals: W1TinyStages.expected, "W1 Sluice buffer(64)")
        } setup: {
            _ = W1TinyStages.expected
        }
    }

    // MARK: W2 — fan-out I/O

    static func w2(_ n: Int) async throws -> Int {
        try await (Pipeline(0..<n)
            | op.map { x in
                try await Task.sleep(for: W2FanOutIO.latency)
                return x
            }.workers(W2FanOutIO.concurrency)
            | op.map { $0 + 1 })
            .count()
    }

    static func registerW2() {
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))
        Benchmark("W2 fan-out I/O: Sluice workers(64)", configuration: config) { _ in
            let result = try await onChosenExecutor { try await w2(W2FanOutIO.count) }
            verify(result, equals: W2FanOutIO.expected, "W2 Sluice workers(64)")
        }
    }

    // MARK: W3 — CPU fan-out

    static func w3(_ n: Int, workers: Int) async throws -> Int {
        try await (Pipeline(0..<n) | op.map(W3CPUFanOut.work).workers(workers)).reduce(0, &+)
    }

    static func registerW3() {
        let config = Benchmark.Configuration.workload(warmup: 0, maxIterations: 3, maxDuration: .seconds(10))
        for workers in [1, 2] {
            Benchmark("W3 CPU fan-out: Sluice workers(\(workers))", configuration: config) { _ in
                let result = try await onChosenExecutor { try await w3(W3CPUFanOut.count, workers: workers) }
                verify(result, equals: W3CPUFanOut.expected, "W3 Sluice workers(\(workers))")
            }
        }
    }

    // MARK: W4 — backpressure

    /// The source is the fast producer; the consumer stage hashes; 64 items at most between them.
    static func w4(_ n: Int) async throws -> Int {
        try await (Pipeline(0..<n) | op.map(W4Backpressure.consume).buffer(.init(capacity: W4Backpressure.bound)))
            .reduce(0, &+)
    }

    static func registerW4() {
        let largeConfig = Benchmark.Configuration.workload(
            warmup: 0, maxIterations: 1, maxDuration: .seconds(30), peakMemory: true)
        let smallConfig = Benchmark.Configuration.workload(
            warmup: 0, maxIterations: 3, maxDuration: .seconds(5), peakMemory: true)
        let variants = [
            (W4Backpressure.large, "5M", largeConfig),
            (W4Backpressure.small, "500k", smallConfig),
        ]
        for (n, label, config) in variants {
            Benchmark("W4 backpressure \(label): Sluice buffer(64)", configuration: config) { _ in
                let result = try await onChosenExecutor { try await w4(n) }
                verify(result, equals: W4Backpressure.expected(n), "W4 Sluice buffer(64)")
            } setup: {
                _ = W4Backpressure.expected(n)
            }
        }
    }

    // MARK: W5 — the cost of order

    static func w5Call(_ x: Int) async throws -> Int {
        try await Task.sleep(for: W5OrderedCost.latency)
        return x
    }

    /// Input order (the default): checked with the order-sensitive hash.
    static func w5Ordered(_ n: Int) async throws -> Int {
        try await (Pipeline(0..<n) | op.map(w5Call).workers(W5OrderedCost.width))
            .reduce(0, W5OrderedCost.foldOrdered)
    }

    /// Completion order: checked with the sum.
    static func w5Unordered(_ n: Int) async throws -> Int {
        try await (Pipeline(0..<n) | op.map(w5Call).workers(W5OrderedCost.width).unordered())
            .reduce(0, &+)
    }

    static func registerW5() {
        let n = W5OrderedCost.count
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))
        Benchmark("W5 ordered cost: Sluice workers(8), ordered", configuration: config) { _ in
            let result = try await onChosenExecutor { try await w5Ordered(n) }
            verify(result, equals: W5OrderedCost.expectedOrdered, "W5 Sluice ordered")
        }
        Benchmark("W5 ordered cost: Sluice workers(8).unordered()", configuration: config) { _ in
            let result = try await onChosenExecutor { try await w5Unordered(n) }
            verify(result, equals: W5OrderedCost.expectedSum, "W5 Sluice unordered")
        }
    }

    // MARK: W9 — fan-out/fan-in

    static func w6(ordered: Bool) async throws -> Int {
        let n = W9FanOutFanIn.perSource
        let records = Pipeline.merge(Pipeline(0..<n), Pipeline(n..<(2 * n)))
        var fanOut = op.broadcast(op.map(W9FanOutFanIn.write), op.map(W9FanOutFanIn.index)).workers(W9FanOutFanIn.width)
        if !ordered { fanOut = fanOut.unordered() }
        return try await (records | fanOut).count()
    }

    static func registerW9() {
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))
        for ordered in [false, true] {
            let label = "W9 fan-out/fan-in: Sluice merge | broadcast.workers(32)\(ordered ? "" : ".unordered()")"
            Benchmark(label, configuration: config) { _ in
                let result = try await onChosenExecutor { try await w6(ordered: ordered) }
                verify(result, equals: W9FanOutFanIn.expected, label)
            }
        }
    }
}
