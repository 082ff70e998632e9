// Helpers for the railway tests: a test error, a failing async sequence, readable summaries.
import Sluice
import SluiceTestSupport

/// The error the railway tests' closures throw.
struct RailBoom: Error, CustomStringConvertible {
    var id: Int
    var description: String { "boom \(id)" }
}

/// Summarises a railway item as `ok <value>` or `fail <stage> <item>: <error>`, so outputs compare
/// as strings (`StageFailure` is not `Equatable`: its error and item are existentials).
func railSummary<T>(_ item: Result<T, StageFailure>) -> String {
    switch item {
    case .success(let value): "ok \(value)"
    case .failure(let failure): railSummary(failure)
    }
}

func railSummary(_ failure: StageFailure) -> String {
    "fail \(failure.stage) \(failure.item.map { "\($0)" } ?? "-"): \(failure.underlying)"
}

/// Yields `0..<count`, then throws `RailBoom(id: count)` if `fails`. If a gate is given, each
/// `next()` waits on it first (cancellable).
struct RailNumbers: AsyncSequence, Sendable {
    var count: Int
    var fails = false
    var gate: Gate?

    struct AsyncIterator: AsyncIteratorProtocol {
        let base: RailNumbers
        var next = 0

        mutating func next() async throws -> Int? {
            if let gate = base.gate { try await gate.wait() }
            if next < base.count {
                defer { next += 1 }
                return next
            }
            if base.fails { throw RailBoom(id: base.count) }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: self) }
}
