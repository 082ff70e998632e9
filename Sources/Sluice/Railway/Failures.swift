// `op.failures` and `Failures`: the railway stage in both front ends.

extension op {
    /// Keeps the failures; drops the successes.
    ///
    /// ```swift
    /// let failed = try await (Pipeline(urls) | op.tryMap(fetch) | op.failures()).collect()
    /// ```
    ///
    /// - Returns: A one-stage flow of kind `failures`.
    @inlinable
    public static func failures<T>() -> Flow<Result<T, StageFailure>, StageFailure> {
        let keep: @Sendable (Result<T, StageFailure>) -> StageFailure? = { item in
            guard case .failure(let failure) = item else { return nil }
            return failure
        }
        return failuresFlow(keep, kernel: Kernels.compactMap(keep))
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
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, StageFailure>

    /// A `failures` stage.
    ///
    /// ```swift
    /// Failures<Page>()
    /// ```
    @inlinable
    public init() {
        flow = op.failures()
    }
}
