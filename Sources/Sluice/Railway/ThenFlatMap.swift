// `op.thenFlatMap` and `ThenFlatMap`: the railway stage in both front ends.

extension op {
    /// Expands each success into 0…N successes, streamed; failures pass unchanged. A thrown error
    /// turns the item into one failure.
    ///
    /// ```swift
    /// op.thenFlatMap { (page: Page) in page.links }
    /// ```
    ///
    /// - Parameter transform: Called once per success; each element of its sequence becomes a
    ///   `.success`. An error it throws becomes one `.failure` for the item.
    /// - Returns: A one-stage flow of kind `thenFlatMap`.
    public static func thenFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) throws -> S) -> Flow<Result<A, StageFailure>, Result<S.Element, StageFailure>> {
        Flow(.thenFlatMap(Transform.sync(transform)))
    }

    /// Expands each success into an asynchronously computed sequence; failures pass unchanged.
    ///
    /// ```swift
    /// op.thenFlatMap { (page: Page) in try await page.loadLinks() }
    /// ```
    ///
    /// - Parameter transform: Called once per success; each element of its sequence becomes a
    ///   `.success`. An error it throws becomes one `.failure` for the item.
    /// - Returns: A one-stage flow of kind `thenFlatMap`.
    public static func thenFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<Result<A, StageFailure>, Result<S.Element, StageFailure>> {
        Flow(.thenFlatMap(Transform.async(transform)))
    }

    /// Expands each success into an `AsyncSequence`, streamed; failures pass unchanged. If
    /// iterating throws, the successes already emitted stay and one failure follows.
    ///
    /// ```swift
    /// op.thenFlatMap { (id: Int) in events(of: id) }
    /// ```
    ///
    /// - Parameter transform: Called once per success; each element of its sequence becomes a
    ///   `.success`. An error it throws, or one thrown while its sequence is iterated, becomes one
    ///   `.failure` for the item (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `thenFlatMap`.
    public static func thenFlatMap<A, S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<Result<A, StageFailure>, Result<S.Element, StageFailure>> {
        Flow(.thenFlatMap(async: transform))
    }
}

/// Expands each success into 0…N successes, streamed; failures pass unchanged (same stage as
/// `op.thenFlatMap`).
///
/// ```swift
/// Flow<URL, Result<URL, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenFlatMap { (page: Page) in page.links }
/// }
/// ```
public struct ThenFlatMap<Success: Sendable, NewSuccess: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Result<NewSuccess, StageFailure>>

    /// A `thenFlatMap` stage whose transform returns a `Sequence`.
    ///
    /// - Parameter transform: Called once per success; each element becomes a `.success`, an
    ///   error it throws one `.failure`.
    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Success) throws -> S) where S.Element == NewSuccess {
        flow = op.thenFlatMap(transform)
    }

    /// A `thenFlatMap` stage whose asynchronous transform returns a `Sequence`.
    ///
    /// - Parameter transform: Called once per success; each element becomes a `.success`, an
    ///   error it throws one `.failure`.
    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Success) async throws -> S) where S.Element == NewSuccess {
        flow = op.thenFlatMap(transform)
    }

    /// A `thenFlatMap` stage whose transform returns an `AsyncSequence`, streamed.
    ///
    /// - Parameter transform: Called once per success; each element becomes a `.success`. An
    ///   error it throws, or one thrown while its sequence is iterated, becomes one `.failure`
    ///   after the successes already emitted.
    public init<S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (Success) async throws -> S) where S.Element == NewSuccess {
        flow = op.thenFlatMap(transform)
    }
}
