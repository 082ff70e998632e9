// `op.failures` and `Failures`: the railway stage in both front ends.

extension op {
    /// Keeps the failures; drops the successes.
    ///
    /// ```swift
    /// let failed = try await (Pipeline(urls) | op.tryMap(fetch) | op.failures()).collect()
    /// ```
    public static func failures<T>() -> Flow<Result<T, StageFailure>, StageFailure> {
        Flow(.failures(of: T.self))
    }
}

/// Keeps the failures; drops the successes (same stage as `op.failures()`).
/// Spell the success type: `Failures<Page>()`.
///
/// ```swift
/// Flow<URL, StageFailure> {
///     TryMap { try fetch($0) }
///     Failures<Page>()
/// }
/// ```
public struct Failures<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, StageFailure>

    public init() {
        flow = op.failures()
    }
}
