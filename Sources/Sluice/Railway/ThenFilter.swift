// `op.thenFilter` and `ThenFilter`: the railway stage in both front ends.

extension op {
    /// Keeps the successes `isIncluded` accepts; failures always pass. A thrown error turns the
    /// item into a failure.
    ///
    /// ```swift
    /// op.thenFilter { (page: Page) in page.isHTML }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per success; `true` keeps it. An error it throws turns
    ///   the item into a `.failure` naming this stage. Failures always pass.
    /// - Returns: A one-stage flow of kind `thenFilter`.
    public static func thenFilter<A>(_ isIncluded: @escaping @Sendable (A) throws -> Bool) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenFilter(Transform.sync(isIncluded)))
    }

    /// Keeps the successes the asynchronous `isIncluded` accepts; failures always pass.
    ///
    /// ```swift
    /// op.thenFilter { (url: URL) in try await robots.allows(url) }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per success; `true` keeps it. An error it throws turns
    ///   the item into a `.failure` naming this stage. Failures always pass.
    /// - Returns: A one-stage flow of kind `thenFilter`.
    public static func thenFilter<A>(_ isIncluded: @escaping @Sendable (A) async throws -> Bool) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenFilter(Transform.async(isIncluded)))
    }
}

/// Keeps the successes the predicate accepts; failures always pass (same stage as
/// `op.thenFilter`).
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenFilter { (page: Page) in page.isHTML }
/// }
/// ```
public struct ThenFilter<Success: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Result<Success, StageFailure>>

    /// A `thenFilter` stage with a synchronous predicate.
    ///
    /// - Parameter isIncluded: Called once per success; `true` keeps it, an error makes it a `.failure`.
    public init(_ isIncluded: @escaping @Sendable (Success) throws -> Bool) {
        flow = op.thenFilter(isIncluded)
    }

    /// A `thenFilter` stage with an asynchronous predicate.
    ///
    /// - Parameter isIncluded: Called once per success; `true` keeps it, an error makes it a `.failure`.
    public init(_ isIncluded: @escaping @Sendable (Success) async throws -> Bool) {
        flow = op.thenFilter(isIncluded)
    }
}
