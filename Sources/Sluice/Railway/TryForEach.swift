// `op.tryForEach` and `TryForEach`: entering the railway with a side effect, in both front ends.

extension op {
    /// Runs `action` on each item and passes the item on as `.success`; an item whose action
    /// throws becomes `.failure(StageFailure)` (naming the stage and the item) instead of failing
    /// the run.
    ///
    /// ```swift
    /// let stored = Pipeline(records) | op.tryForEach { (r: Record) in try db.insert(r) }
    /// let failed = try await (stored | op.failures()).collect()
    /// ```
    ///
    /// - Parameter action: Called once per item. An error it throws becomes a `.failure` naming
    ///   this stage and the item (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `tryForEach`.
    public static func tryForEach<A>(_ action: @escaping @Sendable (A) throws -> Void) -> Flow<A, Result<A, StageFailure>> {
        Flow(.tryForEach(Transform.sync(action)))
    }

    /// Runs the asynchronous `action` on each item and passes it on as `.success`; a thrown error
    /// becomes a `.failure` (see the synchronous form).
    ///
    /// ```swift
    /// op.tryForEach { (r: Record) in try await api.upload(r) }.workers(8)
    /// ```
    ///
    /// - Parameter action: Called once per item. An error it throws becomes a `.failure` naming
    ///   this stage and the item (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `tryForEach`.
    public static func tryForEach<A>(_ action: @escaping @Sendable (A) async throws -> Void) -> Flow<A, Result<A, StageFailure>> {
        Flow(.tryForEach(Transform.async(action)))
    }
}

/// Runs an action on each item and passes it on as `.success`; a thrown error becomes a `.failure`
/// (same stage as `op.tryForEach`).
///
/// ```swift
/// Flow<Record, Result<Record, StageFailure>> { TryForEach { (r: Record) in try db.insert(r) } }
/// ```
public struct TryForEach<Input: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Result<Input, StageFailure>>

    /// A `tryForEach` stage with a synchronous action.
    ///
    /// ```swift
    /// TryForEach { (r: Record) in try db.insert(r) }
    /// ```
    ///
    /// - Parameter action: Called once per item; an error it throws makes the item a `.failure`.
    public init(_ action: @escaping @Sendable (Input) throws -> Void) {
        flow = op.tryForEach(action)
    }

    /// A `tryForEach` stage with an asynchronous action.
    ///
    /// ```swift
    /// TryForEach { (r: Record) in try await api.upload(r) }
    /// ```
    ///
    /// - Parameter action: Called once per item; an error it throws makes the item a `.failure`.
    public init(_ action: @escaping @Sendable (Input) async throws -> Void) {
        flow = op.tryForEach(action)
    }
}
