// `RateLimiter` and `.rateLimited(...)`: a token bucket that slows a stage down (never drops),
// shared by every worker of the stage, adjustable while it runs.
import SluiceExecutor

/// A token bucket: `rate` tokens per second, holding at most `burst`. Each item a rate-limited
/// stage handles takes `cost` tokens; when there are not enough, the worker waits (backpressure:
/// nothing is dropped). Keep the limiter to adjust it while pipelines run, e.g. lower it when a
/// server answers 429.
///
/// ```swift
/// let limiter = RateLimiter(rate: 50, burst: 10)                 // 50 requests/s, bursts of 10
/// let pages = Pipeline(urls) | op.map(fetch).workers(8).rateLimited(limiter)
/// // on a 429: limiter.setRate(10)
/// ```
///
/// One limiter can be shared by several stages or pipelines: they then share its budget. Waiters
/// are served in the order they asked (a caller that asks reserves its tokens at once, going into
/// debt; the next caller waits for that debt too). A rate change applies to tokens reserved from
/// then on; a caller already waiting keeps its wait.
public final class RateLimiter: Sendable {
    private let bucket: Lock<TokenBucket>
    private let timeline: Timeline
    private let waitedNanoseconds = Lock<Int64>(0)

    /// A limiter of `rate` tokens per second, holding at most `burst` (full at the start).
    ///
    /// ```swift
    /// let limiter = RateLimiter(rate: 100, burst: 20)
    /// ```
    ///
    /// - Parameters:
    ///   - rate: Tokens per second; finite and `> 0` (a precondition).
    ///   - burst: The most tokens saved up while idle; `>= 1` (a precondition).
    ///   - clock: The clock waits are measured on; `ContinuousClock` unless a test injects one.
    public init(rate: Double, burst: Int = 1, clock: some Clock<Duration> = ContinuousClock()) {
        Self.check(rate: rate, burst: burst)
        timeline = Timeline(clock)
        bucket = Lock(TokenBucket(rate: rate, burst: burst))
    }

    /// Tokens added per second.
    ///
    /// ```swift
    /// print(limiter.rate)   // 50.0
    /// ```
    public var rate: Double { bucket.withLock { $0.rate } }

    /// The most tokens the bucket holds.
    ///
    /// ```swift
    /// print(limiter.burst)   // 10
    /// ```
    public var burst: Int { bucket.withLock { $0.burst } }

    /// Total time callers have waited for tokens (summed over callers).
    ///
    /// ```swift
    /// print(limiter.waited)   // 12.5 seconds
    /// ```
    public var waited: Duration { .nanoseconds(waitedNanoseconds.withLock { $0 }) }

    /// Changes the rate (and the burst, if given) from now on, also while pipelines use the limiter.
    ///
    /// ```swift
    /// limiter.setRate(10)            // the server said 429: slow down
    /// limiter.setRate(100, burst: 50)
    /// ```
    ///
    /// - Parameters:
    ///   - rate: Tokens per second; finite and `> 0` (a precondition).
    ///   - burst: The most tokens saved up while idle (`nil`: unchanged); `>= 1` (a precondition).
    public func setRate(_ rate: Double, burst: Int? = nil) {
        let now = timeline.now()
        bucket.withLock { b in
            Self.check(rate: rate, burst: burst ?? b.burst)
            b.set(rate: rate, burst: burst ?? b.burst, now: now)
        }
    }

    /// Takes `cost` tokens, waiting until the bucket has them. Throws `CancellationError` if the
    /// task is cancelled while it waits (the tokens it reserved are not given back).
    ///
    /// ```swift
    /// try await limiter.acquire()        // one token
    /// try await limiter.acquire(5)       // an item that costs 5
    /// ```
    ///
    /// - Parameter cost: Tokens to take; `0` or more (`0` never waits).
    /// - Returns: How long the call waited.
    @discardableResult
    public func acquire(_ cost: Int = 1) async throws -> Duration {
        guard cost > 0 else { return .zero }
        let now = timeline.now()
        let wait = bucket.withLock { $0.reserve(cost, now: now) }
        guard wait > .zero else { return .zero }
        try await timeline.sleep(now + Swift.min(wait, .longestWait))
        let (seconds, attoseconds) = wait.components
        waitedNanoseconds.withLock { $0 &+= seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000 }
        return wait
    }

    private static func check(rate: Double, burst: Int) {
        require(rate.isFinite && rate > 0, "rate must be finite and > 0, got \(rate) (rate limiter)")
        require(burst >= 1, "burst must be >= 1, got \(burst) (rate limiter)")
    }
}

/// The token bucket's arithmetic, a plain value: tokens refill at `rate` per second up to
/// `burst`; a reservation takes its tokens at once (possibly into debt) and returns how long the
/// caller must wait for the debt to be repaid.
package struct TokenBucket: Sendable {
    package private(set) var rate: Double
    package private(set) var burst: Int
    /// Tokens available (negative: reserved ahead of time).
    package private(set) var tokens: Double
    /// When `tokens` was last brought up to date.
    private var updated: Duration = .zero

    package init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
        tokens = Double(burst)
    }

    /// Takes `cost` tokens at `now`; returns how long to wait until they are covered.
    package mutating func reserve(_ cost: Int, now: Duration) -> Duration {
        refill(now)
        tokens -= Double(cost)
        guard tokens < 0 else { return .zero }
        return .seconds(-tokens / rate)
    }

    package mutating func set(rate: Double, burst: Int, now: Duration) {
        refill(now)
        self.rate = rate
        self.burst = burst
        tokens = Swift.min(tokens, Double(burst))
    }

    private mutating func refill(_ now: Duration) {
        guard now > updated else { return }
        let elapsed = Double((now - updated).components.seconds) + Double((now - updated).components.attoseconds) / 1e18
        tokens = Swift.min(Double(burst), tokens + elapsed * rate)
        updated = now
    }
}

extension FlowComponent {
    /// Slows the stage down to `limiter`'s rate: before each item, a worker takes `cost(item)`
    /// tokens, waiting if there are not enough. All workers of the stage share the limiter, so
    /// `workers(8).rateLimited(limiter)` runs 8 requests at a time but at most the limiter's rate.
    /// Nothing is dropped: waiting slows the upstream down (backpressure). The time waited is in
    /// the stage's metrics (`StageMetrics.throttled`) and in `limiter.waited`.
    ///
    /// ```swift
    /// let limiter = RateLimiter(rate: 20, burst: 5)
    /// op.map(fetch).workers(8).rateLimited(limiter)
    /// Map(upload).rateLimited(limiter) { (file: File) in file.megabytes }   // a cost per item
    /// ```
    ///
    /// The wait is a layer around the stage's work, like `timeout`: written after `retry`, every
    /// attempt of an item counts once in total; written before it, each attempt takes tokens.
    ///
    /// - Parameters:
    ///   - limiter: The token bucket; keep it to change its rate while the pipeline runs.
    ///   - cost: The tokens an item takes (default 1; negative counts as 0).
    /// - Returns: The flow as one stage with the limiter as its outermost layer so far.
    public func rateLimited(_ limiter: RateLimiter, cost: @escaping @Sendable (Input) -> Int = { _ in 1 }) -> Flow<Input, Output> {
        modifyingPolicies("rateLimited") { body, _ in
            body.layers.append(InvocationLayer { x, invocation, next in
                let waited = try await limiter.acquire(cost(x))
                if waited > .zero { invocation.meter?.countThrottled(waited) }
                return try await next(x)
            })
        }
    }
}
