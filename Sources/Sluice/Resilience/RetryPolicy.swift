// `RetryPolicy`: how many attempts an item gets, and the backoff between them.

/// How many times a stage tries an item, and how long it waits in between.
///
/// ```swift
/// op.map(fetch).retry(.attempts(3))                                     // at once
/// op.map(fetch).retry(.attempts(4, backoff: .exponential(initial: .milliseconds(100), max: .seconds(2))))
/// ```
public struct RetryPolicy: Sendable, Hashable, CustomStringConvertible {
    /// Attempts in total, the first one included (`1` = no retry).
    public var maxAttempts: Int
    /// The wait before each retry.
    public var backoff: Backoff

    /// Up to `count` attempts in total, waiting `backoff` between them. `count` must be >= 1
    /// (checked by `retry(_:clock:when:)`); `Int.max` retries until the item succeeds.
    ///
    /// ```swift
    /// .retry(.attempts(5, backoff: .fixed(.seconds(1))))
    /// ```
    ///
    /// - Parameters:
    ///   - count: Attempts in total, the first one included; at least 1 (checked by `retry`).
    ///   - backoff: The wait before each retry; none by default.
    /// - Returns: The policy.
    public static func attempts(_ count: Int, backoff: Backoff = .none) -> RetryPolicy {
        RetryPolicy(maxAttempts: count, backoff: backoff)
    }

    /// `attempts(3, backoff: fixed(1.0 seconds))`
    public var description: String { "attempts(\(maxAttempts), backoff: \(backoff))" }
}
