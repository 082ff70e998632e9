// `TimeoutError`: what a stage fails with when its work on an item outlived its `timeout`.

/// The error a stage fails with when its work on an item took longer than its `timeout`.
///
/// ```swift
/// do { _ = try await (Pipeline(urls) | op.map(fetch).timeout(.seconds(2))).collect() }
/// catch let failure as StageFailure where failure.underlying is TimeoutError { … }
/// ```
public struct TimeoutError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The limit that was exceeded.
    public var limit: Duration

    /// Creates the error. Only a stage's `timeout` throws it, so this is for the package's own tests;
    /// match it with `error as? TimeoutError` and read ``limit``.
    package init(limit: Duration) {
        self.limit = limit
    }

    /// `timed out after 2.0 seconds`
    public var description: String { "timed out after \(limit)" }
}
