// A deadline that fails a test instead of letting a bug hang CI. It is not synchronisation:
// a passing test never reaches it.

/// Thrown when `withDeadline` runs out.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let seconds: Int
    public var description: String { "deadline of \(seconds) s exceeded (the test would have hung)" }
}

/// Runs `body`, throwing `DeadlineExceeded` if it has not finished after `seconds`.
public func withDeadline<T: Sendable>(
    seconds: Int = 30,
    isolation: isolated (any Actor)? = #isolation,
    _ body: @Sendable @escaping () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self, isolation: isolation) { group in
        group.addTask { try await body() }
        group.addTask {
            try await ContinuousClock().sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DeadlineExceeded(seconds: seconds)
        }
        return value
    }
}

/// Lets other tasks run for a while: used only before asserting that something did NOT happen.
public func yieldRepeatedly(_ times: Int = 2_000) async {
    for _ in 0..<times { await Task.yield() }
}
