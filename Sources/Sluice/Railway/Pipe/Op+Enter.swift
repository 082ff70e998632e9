// Entering the railway in the pipe style: `op.tryMap` and `op.tryFlatMap`.
import SluiceExecutor

extension op {
    /// One output per input, as a `Result`: a thrown error becomes `.failure(StageFailure)` (naming
    /// the stage and the item) instead of failing the run. `CancellationError` still ends the run.
    ///
    /// ```swift
    /// let pages = Pipeline(urls) | op.tryMap { (url: URL) in try fetch(url) }.named("fetch")
    /// // Pipeline<Result<Page, StageFailure>>
    /// ```
    public static func tryMap<A, B>(_ transform: @escaping @Sendable (A) throws -> B) -> Flow<A, Result<B, StageFailure>> {
        Flow(.tryMap(Transform.sync(transform)))
    }

    /// One output per input, computed asynchronously, as a `Result` (see the synchronous form).
    ///
    /// ```swift
    /// op.tryMap { (url: URL) in try await fetch(url) }.workers(8).named("fetch")
    /// ```
    public static func tryMap<A, B>(_ transform: @escaping @Sendable (A) async throws -> B) -> Flow<A, Result<B, StageFailure>> {
        Flow(.tryMap(Transform.async(transform)))
    }

    /// 0…N successes per input, streamed; if the closure throws, one failure instead.
    ///
    /// ```swift
    /// op.tryFlatMap { (page: Page) in try page.links() }   // Result<URL, StageFailure> items
    /// ```
    public static func tryFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) throws -> S) -> Flow<A, Result<S.Element, StageFailure>> {
        Flow(.tryFlatMap(Transform.sync(transform)))
    }

    /// 0…N successes per input from an asynchronously computed sequence; if the closure throws,
    /// one failure instead.
    ///
    /// ```swift
    /// op.tryFlatMap { (page: Page) in try await page.loadLinks() }
    /// ```
    public static func tryFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, Result<S.Element, StageFailure>> {
        Flow(.tryFlatMap(Transform.async(transform)))
    }

    /// 0…N successes per input from an `AsyncSequence`, streamed. If iterating throws, the
    /// successes already emitted stay emitted and one failure follows them (as with `op.flatMap`,
    /// which also streams).
    ///
    /// ```swift
    /// op.tryFlatMap { (file: URL) in file.lines }   // a read error ends that file with a failure
    /// ```
    public static func tryFlatMap<A, S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, Result<S.Element, StageFailure>> {
        Flow(.tryFlatMap(async: transform))
    }
}
