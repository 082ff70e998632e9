// The token bucket: its rate and burst over 10,000 virtual seconds (within 1%), a rate change
// taking effect, and a rate-limited stage on the test clock: shared by its workers, slowed down
// (never dropping), its waits in the metrics.
import Sluice
@testable import SluiceExecutor
import SluiceTestSupport
import Testing

/// Grants a greedy caller gets from `bucket` until `horizon`, taking `cost` each time.
private func grants(_ bucket: inout TokenBucket, until horizon: Duration, cost: Int = 1) -> Int {
    var now = Duration.zero, count = 0
    while true {
        now += bucket.reserve(cost, now: now)
        if now > horizon { return count }
        count += 1
    }
}

@Suite struct RateLimiterTests {
    @Test(arguments: [(10.0, 5), (3.5, 1), (0.25, 40)])
    func theBucketKeepsItsRateAndBurstOver10000VirtualSeconds(rate: Double, burst: Int) {
        var bucket = TokenBucket(rate: rate, burst: burst)
        let horizon = Duration.seconds(10_000)
        let expected = Double(burst) + rate * 10_000
        let got = Double(grants(&bucket, until: horizon))
        #expect(abs(got - expected) / expected < 0.01)
    }

    @Test func aCostTakesThatManyTokens() {
        var bucket = TokenBucket(rate: 10, burst: 10)
        let got = grants(&bucket, until: .seconds(10_000), cost: 5)
        #expect(abs(Double(got) - 20_002) / 20_002 < 0.01)
    }

    @Test func anIdleBucketSavesUpToItsBurstOnly() {
        var bucket = TokenBucket(rate: 2, burst: 3)
        for _ in 0..<3 { #expect(bucket.reserve(1, now: .zero) == .zero) }
        #expect(bucket.reserve(1, now: .zero) == .milliseconds(500))
        // 100 s idle: refilled to the burst (3), not to 200.
        let later = Duration.seconds(100)
        for _ in 0..<3 { #expect(bucket.reserve(1, now: later) == .zero) }
        #expect(bucket.reserve(1, now: later) == .milliseconds(500))
    }

    @Test func aRateChangeTakesEffectForLaterReservations() {
        var bucket = TokenBucket(rate: 100, burst: 1)
        #expect(bucket.reserve(1, now: .zero) == .zero)
        bucket.set(rate: 1, burst: 1, now: .zero)
        #expect(bucket.reserve(1, now: .zero) == .seconds(1))
        var fast = TokenBucket(rate: 1, burst: 1)
        fast.set(rate: 50, burst: 1, now: .zero)
        let got = grants(&fast, until: .seconds(10_000))
        #expect(abs(Double(got) - 500_001) / 500_001 < 0.01)
    }

    @Test func aLoweredRateLengthensAWaitAlreadyInProgress() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 1, clock: clock)
        #expect(try await limiter.acquire() == .zero)
        let waiter = Task { try await limiter.acquire() }   // owes 1 token: 1 s at rate 1
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(500))               // half of it repaid
        limiter.setRate(0.25)                               // the other half now takes 2 s
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(500))               // the old wait would end here
        try await withDeadline { await clock.waitForSleepers(1) }   // still waiting
        clock.advance(by: .milliseconds(1500))
        let waited = try await withDeadline { try await waiter.value }
        #expect(waited == .milliseconds(2500))
        #expect(limiter.waited == .milliseconds(2500))
    }

    @Test func aRaisedRateShortensAWaitAlreadyInProgress() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 1, clock: clock)
        #expect(try await limiter.acquire() == .zero)
        let done = Counter()
        let waiters = (0..<2).map { _ in
            Task {
                let waited = try await limiter.acquire()   // owe 1 and 2 tokens: 1 s and 2 s at rate 1
                done.increment()
                return waited
            }
        }
        await clock.waitForSleepers(2)
        limiter.setRate(4)                                  // now 0.25 s and 0.5 s
        await clock.waitForSleepers(2)
        clock.advance(by: .milliseconds(250))
        try await withDeadline { await done.wait(atLeast: 1) }
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(250))
        let waited = try await withDeadline { [waiters] in
            var all: [Duration] = []
            for w in waiters { all.append(try await w.value) }
            return all.sorted()
        }
        #expect(waited == [.milliseconds(250), .milliseconds(500)])
    }

    @Test func aCancelledWaiterStopsWaitingAfterARateChange() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 1, clock: clock)
        _ = try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        await clock.waitForSleepers(1)
        limiter.setRate(0.5)
        await clock.waitForSleepers(1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await withDeadline { try await waiter.value } }
    }

    @Test func aRateLimitedStageKeepsTheRateOver10000VirtualSeconds() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 5, clock: clock)
        let received = Counter()
        let p = Pipeline(0...) | op.map { (x: Int) async in x }.rateLimited(limiter)
        let run = Task { try await p.forEach { _ in received.increment() } }
        try await withDeadline(seconds: 120) {
            for _ in 0..<10_000 {
                await clock.waitForSleepers(1)   // the next item waits for its token
                clock.advance(by: .seconds(1))
            }
        }
        await clock.waitForSleepers(1)
        run.cancel()
        _ = try? await run.value
        // burst + rate × 10,000 s; the consumer may be a few items behind the limiter.
        let expected = 5.0 + 10_000
        #expect(Double(received.value) <= expected)
        #expect(abs(Double(received.value) - expected) / expected < 0.01, "\(received.value) items")
        #expect(limiter.waited >= .seconds(10_000))
    }

    @Test func aRateLimitedStageWaitsOnTheClockAndReportsItsWaits() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 2, clock: clock)
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<5) | op.map { (x: Int) async in x }.rateLimited(limiter).named("call")).metrics(metrics)
        let run = Task { try await p.collect() }
        try await withDeadline {
            for _ in 0..<3 {
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(1))
            }
        }
        #expect(try await run.value == [0, 1, 2, 3, 4])
        #expect(clock.sleeps == [.seconds(1), .seconds(1), .seconds(1)])   // 2 from the burst, then 1/s
        #expect(limiter.waited == .seconds(3))
        #expect(metrics.snapshot()["call"]?.throttled == .seconds(3))
    }

    @Test func loweringTheRateWhileRunningSlowsTheNextItems() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 1, clock: clock)
        let seen = Counter()
        let p = Pipeline(0..<3) | op.map { (x: Int) async -> Int in
            if seen.increment() == 1 { limiter.setRate(0.25) }   // "the server answered 429"
            return x
        }.rateLimited(limiter)
        let run = Task { try await p.collect() }
        try await withDeadline {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(4))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(4))
        }
        #expect(try await run.value == [0, 1, 2])
        #expect(clock.sleeps == [.seconds(4), .seconds(4)])
        #expect(limiter.rate == 0.25)
    }

    /// Four workers, one bucket of 4 tokens at 1 per second: 4 items go at once and each of the
    /// other 4 waits for its token, 1, 2, 3 and 4 s in. However the workers shared the items (a
    /// worker with quick items takes several at a time, so the waits may come one after another
    /// or together), each second of the clock lets exactly one more through: the clock moves one
    /// second whenever someone waits, 4 times in all. With a bucket per worker nobody would wait.
    @Test func allWorkersOfTheStageShareOneBucket() async throws {
        let clock = TestClock()
        let start = clock.now
        let limiter = RateLimiter(rate: 1, burst: 4, clock: clock)
        let p = Pipeline(0..<8) | op.map { (x: Int) async in x }.workers(4).rateLimited(limiter)
        let run = Task { try await p.collect() }
        try await withDeadline {
            for _ in 0..<4 {
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(1))
            }
        }
        #expect(try await run.value == Array(0..<8))
        #expect(clock.sleeps.count == 4, "each item past the burst waited: \(clock.sleeps)")
        #expect(start.duration(to: clock.now) == .seconds(4))
    }

    @Test func aCostPerItemTakesThatManyTokens() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 3, clock: clock)
        let p = Pipeline([3, 2]) | op.map { (x: Int) async in x }.rateLimited(limiter) { $0 }
        let run = Task { try await p.collect() }
        try await withDeadline {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(2))
        }
        #expect(try await run.value == [3, 2])
        #expect(clock.sleeps == [.seconds(2)])   // 3 from the burst, then 2 more at 1/s
    }

    @Test func aZeroCostNeverWaitsAndTheBurstCanChange() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(rate: 1, burst: 1, clock: clock)
        #expect(try await limiter.acquire() == .zero)
        let inDebt = Task { try await limiter.acquire() }   // waits 1 s: the bucket is in debt
        await clock.waitForSleepers(1)
        #expect(try await limiter.acquire(0) == .zero)      // nothing asked: no wait, even in debt
        clock.advance(by: .seconds(1))
        #expect(try await inDebt.value == .seconds(1))
        limiter.setRate(2, burst: 5)
        #expect(limiter.rate == 2 && limiter.burst == 5)
    }

    @Test func bothFrontEndsBuildTheSameRateLimitedStage() {
        let limiter = RateLimiter(rate: 5)
        let a: Flow<Int, Int> = op.map { $0 }.rateLimited(limiter)
        let b = Flow<Int, Int> { Map { $0 }.rateLimited(limiter) }
        #expect(a.stages == b.stages)
    }
}
