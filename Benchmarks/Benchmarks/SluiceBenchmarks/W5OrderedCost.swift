import Benchmark

/// W5 — the cost of order: 2,000 items through an 8-way concurrent stage with a uniform simulated
/// latency of 200 µs per item. Floor ≈ 2000 / 8 × 200 µs = 50 ms plus timer overshoot.
///
/// Baselines: a bare task group (results in completion order) and the same task group with a bounded
/// reorder window (results in input order; item k + 8 starts only once item k has been delivered).
/// Sluice's ordered `workers(8)` and `.unordered()` variants compare against these.
enum W5OrderedCost {
    static let count = 2_000
    static let width = 8
    static let latency: Duration = .microseconds(200)

    /// Order-insensitive checksum (sum), shared by every variant.
    static let expectedSum = plainSum(count)
    /// Order-sensitive checksum: only matches when items arrive in input order.
    static let expectedOrdered = plainOrderedHash(count)

    static func register() {
        let config = Benchmark.Configuration.workload(maxIterations: 20, maxDuration: .seconds(3))

        Benchmark("W5 ordered cost: task group, completion order", configuration: config) { _ in
            let sum = try await onChosenExecutor { try await unorderedTaskGroup(count) }
            verify(sum, equals: expectedSum, "W5 task group unordered")
        }
        Benchmark("W5 ordered cost: task group + reorder window, input order", configuration: config) { _ in
            let (sum, ordered) = try await onChosenExecutor { try await orderedTaskGroup(count) }
            verify(sum, equals: expectedSum, "W5 task group ordered (sum)")
            verify(ordered, equals: expectedOrdered, "W5 task group ordered (order)")
        }
    }

    static func plainSum(_ n: Int) -> Int {
        var sum = 0
        for x in 0..<n { sum &+= x }
        return sum
    }

    /// Folds `x` into `hash` so that the result depends on the order of the items.
    static func foldOrdered(_ hash: Int, _ x: Int) -> Int {
        hash &* 31 &+ x
    }

    static func plainOrderedHash(_ n: Int) -> Int {
        (0..<n).reduce(0, foldOrdered)
    }

    /// The simulated call.
    static func call(_ x: Int) async throws -> Int {
        try await Task.sleep(for: latency)
        return x
    }

    /// `width` calls in flight; results consumed in completion order.
    static func unorderedTaskGroup(_ n: Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
            var next = 0
            while next < min(width, n) {
                let x = next
                group.addTask { try await call(x) }
                next += 1
            }
            var sum = 0
            while let x = try await group.next() {
                sum &+= x
                if next < n {
                    let y = next
                    group.addTask { try await call(y) }
                    next += 1
                }
            }
            return sum
        }
    }

    /// `width` calls in flight at most, results delivered in input order through a reorder window of
    /// `width` slots: item `k + width` is started only after item `k` has been delivered.
    /// Returns (sum, order-sensitive hash).
    static func orderedTaskGroup(_ n: Int) async throws -> (Int, Int) {
        try await withThrowingTaskGroup(of: (Int, Int).self, returning: (Int, Int).self) { group in
            var window = [Int?](repeating: nil, count: width)
            var next = 0
            var delivered = 0
            var sum = 0
            var ordered = 0
            while next < min(width, n) {
                let index = next
                group.addTask { (index, try await call(index)) }
                next += 1
            }
            while let (index, value) = try await group.next() {
                window[index % width] = value
                while delivered < n, let ready = window[delivered % width] {
                    window[delivered % width] = nil
                    sum &+= ready
                    ordered = foldOrdered(ordered, ready)
                    delivered += 1
                    if next < n {
                        let index = next
                        group.addTask { (index, try await call(index)) }
                        next += 1
                    }
                }
            }
            return (sum, ordered)
        }
    }
}
