// `op.recover` and `Recover`: the railway stage in both front ends.

extension op {
    /// Replaces each failure with a value; successes are unwrapped. Afterwards items are plain
    /// values again. The handler is not on the railway: if it throws, the run fails.
    ///
    /// ```swift
    /// Pipeline(urls) | op.tryMap(fetch) | op.recover { (_: StageFailure) in Page.empty }
    /// ```
    ///
    /// - Parameter transform: Called once per failure; returns the value that replaces it. An
    ///   error it throws fails the run (it is not on the railway).
    /// - Returns: A one-stage flow of kind `recover`.
    public static func recover<T>(_ transform: @escaping @Sendable (StageFailure) throws -> T) -> Flow<Result<T, StageFailure>, T> {
        Flow(.recover(Transform.sync(transform)))
    }

    /// Replaces each failure with an asynchronously computed value; successes are unwrapped.
    ///
    /// ```swift
    /// op.recover { (failure: StageFailure) in try await cache.page(for: failure.item as! URL) }
    /// ```
    ///
    /// - Parameter transform: Called once per failure; returns the value that replaces it. An
    ///   error it throws fails the run (it is not on the railway).
    /// - Returns: A one-stage flow of kind `recover`.
    public static func recover<T>(_ transform: @escaping @Sendable (StageFailure) async throws -> T) -> Flow<Result<T, StageFailure>, T> {
        Flow(.recover(Transform.async(transform)))
    }
}

/// Replaces each failure with a value and unwraps the successes; a throwing handler fails the run
/// (same stage as `op.recover`).
///
/// ```swift
/// Flow<URL, Page> {
///     TryMap { try fetch($0) }
///     Recover { (_: StageFailure) in Page.empty }
/// }
/// ```
public struct Recover<Success: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Success>

    /// A `recover` stage with a synchronous handler.
    ///
    /// - Parameter transform: Called once per failure; returns the value that replaces it. An
    ///   error it throws fails the run.
    public init(_ transform: @escaping @Sendable (StageFailure) throws -> Success) {
        flow = op.recover(transform)
    }

    /// A `recover` stage with an asynchronous handler.
    ///
    /// - Parameter transform: Called once per failure; returns the value that replaces it. An
    ///   error it throws fails the run.
    public init(_ transform: @escaping @Sendable (StageFailure) async throws -> Success) {
        flow = op.recover(transform)
    }
}
