// `Backoff`: how long a retry waits before the next attempt — fixed or exponential, capped, jittered.
import SluiceExecutor

/// The wait before each retry.
///
/// ```swift
/// Backoff.none                                                    // retry at once
/// Backoff.fixed(.milliseconds(200))                               // 200 ms, 200 ms, …
/// Backoff.exponential(initial: .milliseconds(100), max: .seconds(2))   // 100, 200, 400, … 2000 ms
/// Backoff.exponential(initial: .milliseconds(100), max: .seconds(2), jitter: 0.2)  // each ±20 %, never above 2 s
/// ```
///
/// Limits: delays `>= 0`, `max >= initial`, a finite `multiplier >= 1`, and a `jitter` in `0...1`
/// (not NaN). Values are checked by `retry(_:clock:when:)`, which knows the stage's name for the
/// message, and by `delay(beforeRetry:)` when called directly.
public struct Backoff: Sendable, Hashable, CustomStringConvertible {
    enum Shape: Sendable, Hashable {
        case fixed(Duration)
        case exponential(initial: Duration, multiplier: Double, max: Duration)
    }

    let shape: Shape
    /// The fraction by which each delay is randomly varied: the delay is multiplied by a factor
    /// drawn uniformly from `1 - jitter ... 1 + jitter` (then capped by `max`). Must be in `0...1`,
    /// so a jittered delay is never negative and at most twice the base.
    public let jitter: Double

    /// No wait between attempts.
    public static let none = Backoff(shape: .fixed(.zero), jitter: 0)

    /// The same delay before every retry, optionally jittered.
    ///
    /// ```swift
    /// .retry(.attempts(5, backoff: .fixed(.milliseconds(250), jitter: 0.1)))
    /// ```
    ///
    /// - Parameters:
    ///   - delay: The wait before each retry; zero or more.
    ///   - jitter: The fraction by which each wait is randomly varied, in `0...1`.
    /// - Returns: A fixed backoff.
    public static func fixed(_ delay: Duration, jitter: Double = 0) -> Backoff {
        Backoff(shape: .fixed(delay), jitter: jitter)
    }

    /// `initial` before the first retry, then `multiplier` times the previous delay, never more than
    /// `max` (jitter included).
    ///
    /// ```swift
    /// .retry(.attempts(6, backoff: .exponential(initial: .milliseconds(100), max: .seconds(2), jitter: 0.2)))
    /// ```
    ///
    /// - Parameters:
    ///   - initial: The wait before the first retry; zero or more.
    ///   - multiplier: How much each wait grows; at least 1.
    ///   - max: The longest wait, jitter included; at least `initial`.
    ///   - jitter: The fraction by which each wait is randomly varied, in `0...1`.
    /// - Returns: An exponential backoff.
    public static func exponential(initial: Duration, multiplier: Double = 2, max: Duration, jitter: Double = 0) -> Backoff {
        Backoff(shape: .exponential(initial: initial, multiplier: multiplier, max: max), jitter: jitter)
    }

    /// The delay before retry number `retry` (1 = the wait after the first attempt failed).
    /// With jitter, each call draws a new random factor. Invalid values (a jitter outside `0...1`,
    /// a negative delay, …) stop the program with a message, as in `retry(_:clock:when:)`.
    ///
    /// ```swift
    /// Backoff.exponential(initial: .seconds(1), max: .seconds(5)).delay(beforeRetry: 3)   // 4 seconds
    /// ```
    ///
    /// - Parameter retry: The retry's number, from 1.
    /// - Returns: The wait before that retry.
    public func delay(beforeRetry retry: Int) -> Duration {
        validate(stage: nil)
        let base: Duration, cap: Duration?
        switch shape {
        case .fixed(let delay):
            base = delay
            cap = nil
        case .exponential(let initial, let multiplier, let max):
            base = Self.grown(initial, by: multiplier, times: Swift.max(0, retry - 1), cap: max)
            cap = max
        }
        guard jitter > 0, base > .zero else { return base }
        let jittered = base * Double.random(in: (1 - jitter)...(1 + jitter))
        return cap.map { Swift.min(jittered, $0) } ?? jittered
    }

    /// `initial × multiplier^times`, at most `cap`; exact for whole multipliers.
    private static func grown(_ initial: Duration, by multiplier: Double, times: Int, cap: Duration) -> Duration {
        var delay = initial
        for _ in 0..<times {
            if multiplier == 1 || delay == .zero { break }
            // Past cap / multiplier the next delay is the cap (and multiplying could overflow).
            if delay >= cap / multiplier { return cap }
            let whole = multiplier.rounded() == multiplier && multiplier <= 1024
            delay = whole ? delay * Int(multiplier) : delay * multiplier
        }
        return Swift.min(delay, cap)
    }

    /// Checks the values; the messages name `stage` (or `Backoff`, with no stage).
    func validate(stage: String?) {
        func at() -> String { stage.map { "stage '\($0)'" } ?? "Backoff" }
        require(jitter >= 0 && jitter <= 1, "jitter must be in 0...1, got \(jitter) (\(at()))")
        switch shape {
        case .fixed(let delay):
            require(delay >= .zero, "delay must be >= 0, got \(delay) (\(at()))")
        case .exponential(let initial, let multiplier, let max):
            require(initial >= .zero, "initial delay must be >= 0, got \(initial) (\(at()))")
            require(multiplier >= 1 && multiplier.isFinite, "multiplier must be >= 1, got \(multiplier) (\(at()))")
            require(max >= initial, "max delay must be >= initial delay (\(initial)), got \(max) (\(at()))")
        }
    }

    /// `fixed(0.2 seconds)`, `exponential(0.1 seconds ×2, max 2.0 seconds, jitter 0.2)`.
    public var description: String {
        let j = jitter > 0 ? ", jitter \(jitter)" : ""
        switch shape {
        case .fixed(let delay): return "fixed(\(delay)\(j))"
        case .exponential(let initial, let multiplier, let max): return "exponential(\(initial) ×\(multiplier), max \(max)\(j))"
        }
    }
}
