// A clock whose sleeps end at once: retry backoffs that cost no time (and no sleeping).

/// A `Clock` whose `sleep` returns immediately (after a cancellation check and one yield).
///
/// ```swift
/// op.map(flaky).retry(.attempts(3, backoff: .fixed(.seconds(10))), clock: ImmediateClock())   // no wait
/// ```
public struct ImmediateClock: Clock, Sendable {
    public typealias Instant = ContinuousClock.Instant

    public init() {}

    public var now: Instant { ContinuousClock.now }
    public var minimumResolution: Duration { .zero }

    /// Returns at once (throws `CancellationError` if the task is cancelled).
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        await Task.yield()
    }
}
