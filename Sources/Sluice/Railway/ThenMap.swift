// `op.thenMap` and `ThenMap`: the railway stage in both front ends.

extension op {
    /// Transforms each success; failures pass unchanged. A thrown error turns the item into a
    /// failure naming this stage.
    ///
    /// ```swift
    /// Pipeline(urls) | op.tryMap(fetch) | op.thenMap(parse) | op.thenMap(store)
    /// ```
    ///
    /// - Parameter transform: Called once per success. Its result becomes `.success`; an error it
    ///   throws becomes `.failure` naming this stage and the success value.
    /// - Returns: A one-stage flow of kind `thenMap`.
    public static func thenMap<A, B>(_ transform: @escaping @Sendable (A) throws -> B) -> Flow<Result<A, StageFailure>, Result<B, StageFailure>> {
        Flow(.thenMap(Transform.sync(transform)))
    }

    /// Transforms each success asynchronously; failures pass unchanged.
    ///
    /// ```swift
    /// op.thenMap { (page: Page) in try await store(page) }.workers(4)
    /// ```
    ///
    /// - Parameter transform: Called once per success. Its result becomes `.success`; an error it
    ///   throws becomes `.failure` naming this stage and the success value.
    /// - Returns: A one-stage flow of kind `thenMap`.
    public static func thenMap<A, B>(_ transform: @escaping @Sendable (A) async throws -> B) -> Flow<Result<A, StageFailure>, Result<B, StageFailure>> {
        Flow(.thenMap(Transform.async(transform)))
    }
}

/// Transforms each success; failures pass unchanged; a thrown error turns the item into a failure
/// (same stage as `op.thenMap`). After a type change, spell the closure's parameter type.
///
/// ```swift
/// Flow<URL, Result<Row, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenMap { (page: Page) in try parse(page) }
/// }
/// ```
public struct ThenMap<Success: Sendable, NewSuccess: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Result<NewSuccess, StageFailure>>

    /// A `thenMap` stage with a synchronous transform.
    ///
    /// - Parameter transform: Called once per success; an error it throws becomes a `.failure`.
    public init(_ transform: @escaping @Sendable (Success) throws -> NewSuccess) {
        flow = op.thenMap(transform)
    }

    /// A `thenMap` stage with an asynchronous transform.
    ///
    /// - Parameter transform: Called once per success; an error it throws becomes a `.failure`.
    public init(_ transform: @escaping @Sendable (Success) async throws -> NewSuccess) {
        flow = op.thenMap(transform)
    }
}
