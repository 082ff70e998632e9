import Benchmark

/// W2 — fan-out I/O: 2,000 items → a stage that sleeps 1 ms per item, 64 at a time → map → count.
///
/// The work is pure latency, so the floor is ⌈2000 / 64⌉ × 1 ms ≈ 32 ms plus timer overshoot. The
/// baseline is that floor as plain structured concurrency: a task group keeping 64 sleeps in flight,
/// no channels, the map and the count done by the caller as results arrive.
enum W2FanOutIO {
    static let count = 2_000
    static let concurrency = 64
    static let latency: Duration = .milliseconds(1)

    /// The checksum is the number of items that came out.
    static let expected = plainCount(count)

    static func register() {
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))

        Benchmark("W2 fan-out I/O: task group floor, 64 in flight", configuration: config) { _ in
            let result = try await onChosenExecutor { try await taskGroupFloor(count, width: concurrency) }
            verify(result, equals: expected, "W2 task group")
        }
    }

    /// The reference: what comes out if nothing is lost or duplicated.
    static func plainCount(_ n: Int) -> Int {
        (0..<n).lazy.map { $0 + 1 }.count
    }

    /// The simulated I/O call.
    static func io(_ x: Int) async throws -> Int {
        try await Task.sleep(for: latency)
        return x
    }

    /// A task group that starts `width` calls and starts the next one each time one finishes.
    static func taskGroupFloor(_ n: Int, width: Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
            var next = 0
            while next < min(width, n) {
                let x = next
                group.addTask { try await io(x) }
                next += 1
            }
            var count = 0
            while let x = try await group.next() {
                blackHole(x + 1)  // the map stage
                count += 1
                if next < n {
                    let y = next
                    group.addTask { try await io(y) }
                    next += 1
                }
            }
            return count
        }
    }
}
