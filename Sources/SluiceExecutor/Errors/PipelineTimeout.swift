// The error that ends a run when one of its limits fires: `pipeline.timeout(_:)` or
// `pipeline.idleTimeout(_:)`.

/// A run was ended by one of its time limits; nothing of the run is running when it is thrown.
///
/// ```swift
/// do {
///     try await (Pipeline(urls) | op.map(fetch).workers(8)).timeout(.seconds(30)).drain()
/// } catch let limit as PipelineTimeout {
///     print(limit)   // "the run's timeout fired after 30.0 seconds"
/// }
/// ```
public struct PipelineTimeout: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which limit fired.
    public enum Limit: String, Sendable, Hashable {
        /// The whole run took longer than `timeout(_:)`.
        case run
        /// No item moved (read from the source, or delivered to the consumer) for `idleTimeout(_:)`.
        case idle
        /// A graceful stop was requested with a deadline (`GracefulStop.request(deadline:)`), and
        /// the items already read had not finished when it passed.
        case gracefulStop
    }

    /// Which limit fired.
    public var limit: Limit
    /// The limit's duration, as it was set.
    public var duration: Duration

    /// `PipelineTimeout(limit: .idle, duration: .seconds(5))`: what an idle run throws.
    public init(limit: Limit, duration: Duration) {
        self.limit = limit
        self.duration = duration
    }

    /// "the run's timeout fired after 30.0 seconds", "the run's idle timeout fired: no item for 5.0 seconds".
    public var description: String {
        switch limit {
        case .run: "the run's timeout fired after \(duration)"
        case .idle: "the run's idle timeout fired: no item for \(duration)"
        case .gracefulStop: "the graceful stop's deadline passed: items still running \(duration) after the stop was requested"
        }
    }
}
