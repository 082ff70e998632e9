import Benchmark

/// W9 — fan-out/fan-in: two sources of 1,000 records merged → each record to two branches (a 1 ms
/// "write" and a 1 ms "index"), 32 records in flight → both acknowledgements merged → count.
///
/// The floor is ⌈2000 / 32⌉ × 1 ms ≈ 63 ms plus timer overshoot (a record's two calls overlap).
/// The baseline is the same work hand-written with a task group: 32 records in flight, each
/// record's two calls concurrent with `async let`, the sources one after the other.
enum W9FanOutFanIn {
    static let perSource = 1_000
    static let width = 32
    static let latency: Duration = .milliseconds(1)

    /// Two acknowledgements per record.
    static let expected = 2 * 2 * perSource

    static func register() {
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))
        Benchmark("W9 fan-out/fan-in: task group, 32 records in flight", configuration: config) { _ in
            let result = try await onChosenExecutor { try await taskGroup() }
            verify(result, equals: expected, "W9 task group")
        }
    }

    @Sendable static func write(_ x: Int) async throws -> Int {
        try await Task.sleep(for: latency)
        return x
    }

    @Sendable static func index(_ x: Int) async throws -> Int {
        try await Task.sleep(for: latency)
        return -x
    }

    static func taskGroup() async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
            var records = Array((0..<(2 * perSource)).reversed())
            var acks = 0
            func start() {
                guard let x = records.popLast() else { return }
                group.addTask {
                    async let a = write(x)
                    async let b = index(x)
                    blackHole(try await a + b)
                    return 2
                }
            }
            for _ in 0..<width { start() }
            while let n = try await group.next() {
                acks += n
                start()
            }
            return acks
        }
    }
}
