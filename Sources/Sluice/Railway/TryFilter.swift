// `op.tryFilter` and `TryFilter`: entering the railway with a predicate, in both front ends.

extension op {
    /// Keeps the items `isIncluded` accepts, as `.success`; an item whose predicate throws becomes
    /// `.failure(StageFailure)` (naming the stage and the item) instead of failing the run.
    ///
    /// ```swift
    /// let valid = Pipeline(rows) | op.tryFilter { (row: Row) in try row.checksumMatches() }
    /// // Pipeline<Result<Row, StageFailure>>
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it. An error it throws becomes a
    ///   `.failure` naming this stage and the item (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `tryFilter`.
    public static func tryFilter<A>(_ isIncluded: @escaping @Sendable (A) throws -> Bool) -> Flow<A, Result<A, StageFailure>> {
        Flow(.tryFilter(Transform.sync(isIncluded)))
    }

    /// Keeps the items the asynchronous `isIncluded` accepts, as `.success`; a thrown error becomes
    /// a `.failure` (see the synchronous form).
    ///
    /// ```swift
    /// op.tryFilter { (url: URL) in try await robots.allows(url) }.workers(4)
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it. An error it throws becomes a
    ///   `.failure` naming this stage and the item (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `tryFilter`.
    public static func tryFilter<A>(_ isIncluded: @escaping @Sendable (A) async throws -> Bool) -> Flow<A, Result<A, StageFailure>> {
        Flow(.tryFilter(Transform.async(isIncluded)))
    }
}

/// Keeps the items the predicate accepts as `.success`; a thrown error becomes a `.failure`
/// (same stage as `op.tryFilter`).
///
/// ```swift
/// Flow<Row, Result<Row, StageFailure>> { TryFilter { (row: Row) in try row.checksumMatches() } }
/// ```
public struct TryFilter<Input: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Result<Input, StageFailure>>

    /// A `tryFilter` stage with a synchronous predicate.
    ///
    /// ```swift
    /// TryFilter { (s: String) in try isWellFormed(s) }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it, an error makes it a `.failure`.
    public init(_ isIncluded: @escaping @Sendable (Input) throws -> Bool) {
        flow = op.tryFilter(isIncluded)
    }

    /// A `tryFilter` stage with an asynchronous predicate.
    ///
    /// ```swift
    /// TryFilter { (url: URL) in try await robots.allows(url) }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it, an error makes it a `.failure`.
    public init(_ isIncluded: @escaping @Sendable (Input) async throws -> Bool) {
        flow = op.tryFilter(isIncluded)
    }
}
