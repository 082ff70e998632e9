// `op.mapFailure` and `MapFailure`: the railway stage in both front ends.

extension op {
    /// Transforms each failure as it passes (log it, count it, replace its error); successes pass
    /// unchanged. The handler is not on the railway: if it throws, the run fails.
    ///
    /// ```swift
    /// op.mapFailure { (failure: StageFailure) in
    ///     log.warning("\(failure)")
    ///     return failure
    /// }
    /// ```
    ///
    /// - Parameter transform: Called once per failure; returns the failure to send on. An error it
    ///   throws fails the run (it is not on the railway).
    /// - Returns: A one-stage flow of kind `mapFailure`.
    public static func mapFailure<T>(_ transform: @escaping @Sendable (StageFailure) throws -> StageFailure) -> Flow<Result<T, StageFailure>, Result<T, StageFailure>> {
        Flow(.mapFailure(Transform.sync(transform), of: T.self))
    }

    /// Transforms each failure asynchronously as it passes; successes pass unchanged.
    ///
    /// ```swift
    /// op.mapFailure { (failure: StageFailure) in await deadLetters.add(failure); return failure }
    /// ```
    ///
    /// - Parameter transform: Called once per failure; returns the failure to send on. An error it
    ///   throws fails the run (it is not on the railway).
    /// - Returns: A one-stage flow of kind `mapFailure`.
    public static func mapFailure<T>(_ transform: @escaping @Sendable (StageFailure) async throws -> StageFailure) -> Flow<Result<T, StageFailure>, Result<T, StageFailure>> {
        Flow(.mapFailure(Transform.async(transform), of: T.self))
    }
}

/// Transforms each failure as it passes; successes pass unchanged; a throwing handler fails the run
/// (same stage as `op.mapFailure`). Spell the success type: `MapFailure<Page> { … }`.
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }
///     MapFailure<Page> { failure in log.warning("\(failure)"); return failure }
/// }
/// ```
public struct MapFailure<Success: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Result<Success, StageFailure>>

    /// A `mapFailure` stage with a synchronous handler.
    ///
    /// - Parameter transform: Called once per failure; returns the failure to send on. An error
    ///   it throws fails the run.
    public init(_ transform: @escaping @Sendable (StageFailure) throws -> StageFailure) {
        flow = op.mapFailure(transform)
    }

    /// A `mapFailure` stage with an asynchronous handler.
    ///
    /// - Parameter transform: Called once per failure; returns the failure to send on. An error
    ///   it throws fails the run.
    public init(_ transform: @escaping @Sendable (StageFailure) async throws -> StageFailure) {
        flow = op.mapFailure(transform)
    }
}
