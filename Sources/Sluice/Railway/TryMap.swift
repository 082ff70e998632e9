// `op.tryMap` and `TryMap`: the railway stage in both front ends.

extension op {
    /// One output per input, as a `Result`: a thrown error becomes `.failure(StageFailure)` (naming
    /// the stage and the item) instead of failing the run. `CancellationError` still ends the run.
    ///
    /// ```swift
    /// let pages = Pipeline(urls) | op.tryMap { (url: URL) in try fetch(url) }.named("fetch")
    /// // Pipeline<Result<Page, StageFailure>>
    /// ```
    ///
    /// - Parameter transform: Called once per item. Its result becomes `.success`; an error it
    ///   throws becomes `.failure` with a `StageFailure` naming the stage and the item
    ///   (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `tryMap`.
    public static func tryMap<A, B>(_ transform: @escaping @Sendable (A) throws -> B) -> Flow<A, Result<B, StageFailure>> {
        Flow(.tryMap(Transform.sync(transform)))
    }

    /// One output per input, computed asynchronously, as a `Result` (see the synchronous form).
    ///
    /// ```swift
    /// op.tryMap { (url: URL) in try await fetch(url) }.workers(8).named("fetch")
    /// ```
    ///
    /// - Parameter transform: Called once per item. Its result becomes `.success`; an error it
    ///   throws becomes `.failure` with a `StageFailure` naming the stage and the item
    ///   (`CancellationError` is rethrown).
    /// - Returns: A one-stage flow of kind `tryMap`.
    @inlinable
    public static func tryMap<A, B>(_ transform: @escaping @Sendable (A) async throws -> B) -> Flow<A, Result<B, StageFailure>> {
        asyncTryMapFlow(transform, kernel: Kernels.asyncTryMap(transform)) { stage in
            { x in
                do {
                    return .success(try await transform(x))
                } catch let cancellation as CancellationError {
                    throw cancellation   // cancelling a run is never an item's failure
                } catch {
                    return .failure(StageFailure(stage: stage, item: x, underlying: error))
                }
            }
        }
    }
}

/// One output per input, as a `Result`: a thrown error becomes a `.failure` instead of failing the
/// run (same stage as `op.tryMap`).
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }.workers(8).named("fetch")
/// }
/// ```
public struct TryMap<Input: Sendable, Success: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Result<Success, StageFailure>>

    /// A `tryMap` stage with a synchronous transform.
    ///
    /// ```swift
    /// TryMap { (s: String) in try parse(s) }
    /// ```
    ///
    /// - Parameter transform: Called once per item. Its result becomes `.success`; an error it
    ///   throws becomes `.failure` with a `StageFailure` naming the stage and the item.
    public init(_ transform: @escaping @Sendable (Input) throws -> Success) {
        flow = op.tryMap(transform)
    }

    /// A `tryMap` stage with an asynchronous transform.
    ///
    /// ```swift
    /// TryMap { (url: URL) in try await fetch(url) }.workers(8)
    /// ```
    ///
    /// - Parameter transform: Called once per item. Its result becomes `.success`; an error it
    ///   throws becomes `.failure` with a `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ transform: @escaping @Sendable (Input) async throws -> Success) {
        flow = op.tryMap(transform)
    }
}
