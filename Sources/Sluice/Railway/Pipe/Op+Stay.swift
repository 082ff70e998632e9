// Staying on the railway in the pipe style: `then…` stages act on successes, failures pass by;
// `mapFailure` transforms failures as they pass.
import SluiceExecutor

extension op {
    /// Transforms each success; failures pass unchanged. A thrown error turns the item into a
    /// failure naming this stage.
    ///
    /// ```swift
    /// Pipeline(urls) | op.tryMap(fetch) | op.thenMap(parse) | op.thenMap(store)
    /// ```
    public static func thenMap<A, B>(_ transform: @escaping @Sendable (A) throws -> B) -> Flow<Result<A, StageFailure>, Result<B, StageFailure>> {
        Flow(.thenMap(Transform.sync(transform)))
    }

    /// Transforms each success asynchronously; failures pass unchanged.
    ///
    /// ```swift
    /// op.thenMap { (page: Page) in try await store(page) }.workers(4)
    /// ```
    public static func thenMap<A, B>(_ transform: @escaping @Sendable (A) async throws -> B) -> Flow<Result<A, StageFailure>, Result<B, StageFailure>> {
        Flow(.thenMap(Transform.async(transform)))
    }

    /// Expands each success into 0…N successes, streamed; failures pass unchanged. A thrown error
    /// turns the item into one failure.
    ///
    /// ```swift
    /// op.thenFlatMap { (page: Page) in page.links }
    /// ```
    public static func thenFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) throws -> S) -> Flow<Result<A, StageFailure>, Result<S.Element, StageFailure>> {
        Flow(.thenFlatMap(Transform.sync(transform)))
    }

    /// Expands each success into an asynchronously computed sequence; failures pass unchanged.
    ///
    /// ```swift
    /// op.thenFlatMap { (page: Page) in try await page.loadLinks() }
    /// ```
    public static func thenFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<Result<A, StageFailure>, Result<S.Element, StageFailure>> {
        Flow(.thenFlatMap(Transform.async(transform)))
    }

    /// Expands each success into an `AsyncSequence`, streamed; failures pass unchanged. If
    /// iterating throws, the successes already emitted stay and one failure follows.
    ///
    /// ```swift
    /// op.thenFlatMap { (file: URL) in file.lines }
    /// ```
    public static func thenFlatMap<A, S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<Result<A, StageFailure>, Result<S.Element, StageFailure>> {
        Flow(.thenFlatMap(async: transform))
    }

    /// Keeps the successes `isIncluded` accepts; failures always pass. A thrown error turns the
    /// item into a failure.
    ///
    /// ```swift
    /// op.thenFilter { (page: Page) in page.isHTML }
    /// ```
    public static func thenFilter<A>(_ isIncluded: @escaping @Sendable (A) throws -> Bool) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenFilter(Transform.sync(isIncluded)))
    }

    /// Keeps the successes the asynchronous `isIncluded` accepts; failures always pass.
    ///
    /// ```swift
    /// op.thenFilter { (url: URL) in try await robots.allows(url) }
    /// ```
    public static func thenFilter<A>(_ isIncluded: @escaping @Sendable (A) async throws -> Bool) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenFilter(Transform.async(isIncluded)))
    }

    /// A side effect per success; every item passes on. A thrown error turns the item into a
    /// failure.
    ///
    /// ```swift
    /// op.thenForEach { (row: Row) in try audit.append(row) }
    /// ```
    public static func thenForEach<A>(_ action: @escaping @Sendable (A) throws -> Void) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenForEach(Transform.sync(action)))
    }

    /// An asynchronous side effect per success; every item passes on.
    ///
    /// ```swift
    /// op.thenForEach { (row: Row) in try await index.add(row) }
    /// ```
    public static func thenForEach<A>(_ action: @escaping @Sendable (A) async throws -> Void) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenForEach(Transform.async(action)))
    }

    /// Transforms each failure as it passes (log it, count it, replace its error); successes pass
    /// unchanged. The handler is not on the railway: if it throws, the run fails.
    ///
    /// ```swift
    /// op.mapFailure { (failure: StageFailure) in
    ///     log.warning("\(failure)")
    ///     return failure
    /// }
    /// ```
    public static func mapFailure<T>(_ transform: @escaping @Sendable (StageFailure) throws -> StageFailure) -> Flow<Result<T, StageFailure>, Result<T, StageFailure>> {
        Flow(.mapFailure(Transform.sync(transform), of: T.self))
    }

    /// Transforms each failure asynchronously as it passes; successes pass unchanged.
    ///
    /// ```swift
    /// op.mapFailure { (failure: StageFailure) in await deadLetters.add(failure); return failure }
    /// ```
    public static func mapFailure<T>(_ transform: @escaping @Sendable (StageFailure) async throws -> StageFailure) -> Flow<Result<T, StageFailure>, Result<T, StageFailure>> {
        Flow(.mapFailure(Transform.async(transform), of: T.self))
    }
}
