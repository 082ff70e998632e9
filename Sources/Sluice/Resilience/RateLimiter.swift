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
/// debt; the next caller waits for that debt too). A rate change applies at once, also to callers
/// already waiting: lowering the rate lengthens their waits, raising it shortens them.
public final class RateLimiter: Sendable {
    private let bucket: Lock<TokenBucket>
    private let timeline: Timeline
    private let waitedNanoseconds = Lock<Int64>(0)
    /// The sleeps of callers waiting for tokens: a rate change cancels them, so that each caller
    /// measures its wait again at the new rate.
    /// Callers waiting for tokens: each waits in a task group for its sleep or for a rate change,
    /// whichever comes first (`wakers` resume on a rate change; `ended` marks waits that ended
    /// before their rate-change child registered).
    private let sleepers = Lock<Sleepers>(Sleepers())

    private struct Sleepers {
        var next = 0
        var changes = 0
        var wakers: [Int: CheckedContinuation<Void, Never>] = [:]
        var ended: Set<Int> = []
    }

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
    /// Callers already waiting for tokens wait for the rest of their debt at the new rate.
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
        let waiting = sleepers.withLock { s in
            s.changes += 1
            defer { s.wakers.removeAll() }
            return Array(s.wakers.values)
        }
        for waker in waiting { waker.resume() }
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
        let start = timeline.now()
        guard let ticket = bucket.withLock({ $0.reserveTicket(cost, now: start) }) else { return .zero }
        while true {
            // Noted before the wait is measured: a rate change after this point wakes the sleep.
            let (id, changes) = sleepers.withLock { s in
                s.next += 1
                return (s.next, s.changes)
            }
            let now = timeline.now()
            let wait = bucket.withLock { $0.wait(for: ticket, now: now) }
            guard wait > .zero else { break }
            let timeline = self.timeline, deadline = now + Swift.min(wait, .longestWait)
            // The sleep ends on time (the debt is repaid: done), or a rate change ends the wait
            // (measure the rest again at the new rate). Both are child tasks: nothing outlives
            // this call. (Measuring again after a sleep that ended on time would spin on a clock
            // whose sleeps return at once.)
            let sleptOnTime = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await timeline.sleep(deadline)) != nil }
                group.addTask {
                    await self.rateChange(id: id, since: changes)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                endRateWait(id)
                return first
            }
            sleepers.withLock { _ = $0.ended.remove(id) }
            try Task.checkCancellation()
            if sleptOnTime { break }
        }
        let waited = timeline.now() - start
        let (seconds, attoseconds) = waited.components
        waitedNanoseconds.withLock { $0 &+= seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000 }
        return waited
    }

    /// Returns when the rate changes after `changes` changes, or when `endRateWait(id)` is called.
    private func rateChange(id: Int, since changes: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = sleepers.withLock { s -> Bool in
                if s.changes != changes || s.ended.contains(id) { return true }
                s.wakers[id] = c
                return false
            }
            if now { c.resume() }
        }
    }

    /// Ends wait `id`'s rate-change child (now, or as soon as it registers).
    private func endRateWait(_ id: Int) {
        let waker = sleepers.withLock { s -> CheckedContinuation<Void, Never>? in
            if let c = s.wakers.removeValue(forKey: id) { return c }
            s.ended.insert(id)
            return nil
        }
        waker?.resume()
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
    /// Tokens added since the start, not capped by `burst`: the debt of a reservation made when
    /// `tokens` was `t < 0` is repaid when this has grown by `-t` (tokens are capped only when
    /// there is no debt).
    private var refilled: Double = 0

    package init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
        tokens = Double(burst)
    }

    /// Takes `cost` tokens at `now`; returns how long to wait until they are covered.
    package mutating func reserve(_ cost: Int, now: Duration) -> Duration {
        guard let ticket = reserveTicket(cost, now: now) else { return .zero }
        return wait(for: ticket, now: now)
    }

    /// Takes `cost` tokens at `now`; returns `nil` if they are there, else the ticket to wait for:
    /// the total refill (`refilled`) at which the debt up to these tokens is repaid.
    package mutating func reserveTicket(_ cost: Int, now: Duration) -> Double? {
        refill(now)
        tokens -= Double(cost)
        guard tokens < 0 else { return nil }
        return refilled - tokens
    }

    /// How long until `ticket` is repaid at the current rate (`.zero`: it is, or less than a
    /// nanosecond is missing — a rounding error, not worth another sleep).
    package mutating func wait(for ticket: Double, now: Duration) -> Duration {
        refill(now)
        let seconds = (ticket - refilled) / rate
        guard seconds >= 1e-9 else { return .zero }
        return .seconds(seconds)
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
        refilled += elapsed * rate
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
            var layer = InvocationLayer<Input, Output> { x, invocation, next in
                let waited = try await limiter.acquire(cost(x))
                if waited > .zero { invocation.meter?.countThrottled(waited) }
                return try await next(x)
            }
            layer.passesFailuresOn = true
            body.layers.append(layer)
        }
    }
}
