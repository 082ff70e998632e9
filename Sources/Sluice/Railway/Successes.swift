// `op.successes` and `Successes`: the railway stage in both front ends.

extension op {
    /// Keeps the successes, unwrapped; drops the failures.
    ///
    /// ```swift
    /// let rows = try await (Pipeline(urls) | op.tryMap(fetch) | op.successes()).collect()
    /// ```
    ///
    /// - Returns: A one-stage flow of kind `successes`.
    @inlinable
    public static func successes<T>() -> Flow<Result<T, StageFailure>, T> {
        let keep: @Sendable (Result<T, StageFailure>) -> T? = { item in
            guard case .success(let value) = item else { return nil }
            return value
        }
        return successesFlow(keep, kernel: Kernels.compactMap(keep))
    }
}

/// Keeps the successes, unwrapped; drops the failures (same stage as `op.successes()`).
/// Spell the success type: `Successes<Page>()`.
///
/// ```swift
/// Flow<URL, Page> {
///     TryMap { try fetch($0) }
///     Successes<Page>()
/// }
/// ```
public struct Successes<Success: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Success>

    /// A `successes` stage.
    ///
    /// ```swift
    /// Successes<Page>()
    /// ```
    @inlinable
    public init() {
        flow = op.successes()
    }
}
