// Leaving the railway in the pipe style: recover, keep only successes, keep only failures.
import SluiceExecutor

extension op {
    /// Replaces each failure with a value; successes are unwrapped. Afterwards items are plain
    /// values again. The handler is not on the railway: if it throws, the run fails.
    ///
    /// ```swift
    /// Pipeline(urls) | op.tryMap(fetch) | op.recover { (_: StageFailure) in Page.empty }
    /// ```
    public static func recover<T>(_ transform: @escaping @Sendable (StageFailure) throws -> T) -> Flow<Result<T, StageFailure>, T> {
        Flow(.recover(Transform.sync(transform)))
    }

    /// Replaces each failure with an asynchronously computed value; successes are unwrapped.
    ///
    /// ```swift
    /// op.recover { (failure: StageFailure) in try await cache.page(for: failure.item as! URL) }
    /// ```
    public static func recover<T>(_ transform: @escaping @Sendable (StageFailure) async throws -> T) -> Flow<Result<T, StageFailure>, T> {
        Flow(.recover(Transform.async(transform)))
    }

    /// Keeps the successes, unwrapped; drops the failures.
    ///
    /// ```swift
    /// let rows = try await (Pipeline(urls) | op.tryMap(fetch) | op.successes()).collect()
    /// ```
    public static func successes<T>() -> Flow<Result<T, StageFailure>, T> {
        Flow(.successes(of: T.self))
    }

    /// Keeps the failures; drops the successes.
    ///
    /// ```swift
    /// let failed = try await (Pipeline(urls) | op.tryMap(fetch) | op.failures()).collect()
    /// ```
    public static func failures<T>() -> Flow<Result<T, StageFailure>, StageFailure> {
        Flow(.failures(of: T.self))
    }
}
