// Retry: attempt counts, backoff delays in virtual time, predicates, cancellation, parallel
// stages and the railway.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Testing

@Suite struct ResilienceRetryTests {
    @Test func retriesUntilTheItemSucceeds() async throws {
        let calls = Counter()
        let flow = op.map { (x: Int) throws -> Int in
            if calls.increment() < 3 { throw Transient() }
            return x * 10
        }.retry(.attempts(3))
        #expect(try await flow.run(4) == [40])
        #expect(calls.value == 3)
    }

    @Test func theFinalFailureCarriesTheAttempts() async throws {
        let calls = Counter()
        let p = Pipeline([7]) | op.map { (_: Int) throws -> Int in
            calls.increment()
            throw Transient()
        }.retry(.attempts(4)).named("fetch")
        let failure = await #expect(throws: StageFailure.self) { try await p.collect() }
        #expect(failure?.attempts == 4)
        #expect(failure?.stage == "fetch")
        #expect(failure?.item as? Int == 7)
        #expect(failure?.underlying is Transient)
        #expect(calls.value == 4)
    }

    @Test func withoutRetryThereIsOneAttempt() async throws {
        let failure = await #expect(throws: StageFailure.self) {
            try await (Pipeline([1]) | op.map { (_: Int) throws -> Int in throw Transient() }.timeout(.seconds(60))).collect()
        }
        #expect(failure?.attempts == 1)
    }

    @Test func onlyTheStageWithPoliciesLeavesTheFusedPath() {
        let flow = op.map { (x: Int) in x + 1 } | op.map { (x: Int) in x * 2 }.retry(.attempts(2)) | op.map { $0 - 1 } | op.filter { $0 > 0 }
        let plan = Plan(nodes: flow.nodes, synchronousSource: true)
        #expect(plan.segments.map { $0.nodes.map(\.kind) } == [[.map], [.map], [.map, .filter]])
        #expect(plan.segments.map(\.isSynchronous) == [true, false, true])
        #expect(flow.stages.map(\.kind) == ["map", "map", "map", "filter"])   // the description is unchanged
    }

    @Test func fixedBackoffWaitsTheSameBeforeEveryRetry() async throws {
        let clock = TestClock()
        let calls = Counter()
        let p = Pipeline([1]) | op.map { (_: Int) throws -> Int in
            calls.increment()
            throw Transient()
        }.retry(.attempts(4, backoff: .fixed(.seconds(1))), clock: clock)
        try await withDeadline {
            let result = Task { try await p.collect() }
            for round in 1...3 {
                await clock.waitForSleepers(1)
                // The next attempt waits for the backoff.
                #expect(calls.value == round)
                clock.advance(by: .seconds(1))
            }
            let failure = await #expect(throws: StageFailure.self) { try await result.value }
            #expect(failure?.attempts == 4)
        }
        #expect(clock.sleeps == [.seconds(1), .seconds(1), .seconds(1)])
        #expect(calls.value == 4)
    }

    @Test func exponentialBackoffDoublesUpToTheCap() async throws {
        let clock = TestClock()
        let p = Pipeline([1]) | op.map { (_: Int) throws -> Int in throw Transient() }
            .retry(.attempts(7, backoff: .exponential(initial: .milliseconds(100), max: .seconds(1))), clock: clock)
        try await withDeadline {
            let result = Task { try await p.collect() }
            await advanceThroughSleeps(clock, count: 6)
            await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(clock.sleeps == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                                 .seconds(1), .seconds(1)])
    }

    @Test func backoffValues() {
        let exponential = Backoff.exponential(initial: .seconds(1), multiplier: 3, max: .seconds(20))
        #expect((1...5).map(exponential.delay(beforeRetry:)) == [.seconds(1), .seconds(3), .seconds(9), .seconds(20), .seconds(20)])
        let fractional = Backoff.exponential(initial: .seconds(1), multiplier: 1.5, max: .seconds(2))
        #expect((1...3).map(fractional.delay(beforeRetry:)) == [.seconds(1), .seconds(1.5), .seconds(2)])
        // A huge retry number neither overflows nor exceeds the cap.
        #expect(Backoff.exponential(initial: .seconds(1), max: .seconds(60)).delay(beforeRetry: 10_000) == .seconds(60))
        #expect(Backoff.fixed(.milliseconds(5)).delay(beforeRetry: 9) == .milliseconds(5))
        #expect(Backoff.none.delay(beforeRetry: 1) == .zero)
    }

    /// A zero initial delay used to be "grown" once per retry number: `delay(beforeRetry: .max)`
    /// did not return.
    @Test func aZeroInitialDelayStaysZeroForAnyRetry() {
        let backoff = Backoff.exponential(initial: .zero, max: .seconds(1))
        #expect(backoff.delay(beforeRetry: Int.max) == .zero)
        #expect(Backoff.exponential(initial: .seconds(1), max: .seconds(60)).delay(beforeRetry: Int.max) == .seconds(60))
    }

    /// `attempts(Int.max)` retries until the item succeeds (no count overflows).
    @Test func attemptsIntMaxRetriesUntilSuccess() async throws {
        let calls = Counter()
        let flow = op.map { (x: Int) throws -> Int in
            if calls.increment() < 50 { throw Transient() }
            return x
        }.retry(.attempts(Int.max))
        #expect(try await flow.run(1) == [1])
        #expect(calls.value == 50)
    }

    /// A backoff delay longer than `ContinuousClock` can represent as a deadline used to crash the
    /// retry ("Not enough bits to represent the passed value"); it now waits "forever" (here, until
    /// the outer timeout).
    @Test func aHugeBackoffDelayWaitsWithoutCrashing() async throws {
        let p = Pipeline([1]) | op.map { (_: Int) throws -> Int in throw Transient() }
            .retry(.attempts(2, backoff: .fixed(.seconds(Int64.max))))
            .timeout(.milliseconds(20))
        let failure = await #expect(throws: StageFailure.self) { try await p.collect() }
        #expect(failure?.underlying is TimeoutError)
    }

    @Test func jitterStaysWithinItsBoundsAndUnderTheCap() {
        let backoff = Backoff.exponential(initial: .seconds(1), max: .seconds(3), jitter: 0.5)
        for retry in 1...4 {
            let base: Duration = [.seconds(1), .seconds(2), .seconds(3), .seconds(3)][retry - 1]
            let samples = (0..<500).map { _ in backoff.delay(beforeRetry: retry) }
            #expect(samples.allSatisfy { $0 >= base * 0.5 && $0 <= min(base * 1.5, .seconds(3)) }, "retry \(retry)")
            #expect(samples.contains { $0 < base }, "jitter also shortens (retry \(retry))")
        }
        let fixed = (0..<500).map { _ in Backoff.fixed(.seconds(1), jitter: 0.1).delay(beforeRetry: 1) }
        #expect(fixed.allSatisfy { $0 >= .seconds(0.9) && $0 <= .seconds(1.1) })
        #expect(Set(fixed).count > 1)
    }

    @Test func jitteredDelaysAreWhatTheRetryWaits() async throws {
        let clock = TestClock()
        let p = Pipeline([1]) | op.map { (_: Int) throws -> Int in throw Transient() }
            .retry(.attempts(4, backoff: .fixed(.seconds(10), jitter: 0.2)), clock: clock)
        try await withDeadline {
            let result = Task { try await p.collect() }
            await advanceThroughSleeps(clock, count: 3)
            await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(clock.sleeps.count == 3)
        #expect(clock.sleeps.allSatisfy { $0 >= .seconds(8) && $0 <= .seconds(12) })
    }

    @Test func onlyErrorsThePredicateAcceptsAreRetried() async throws {
        let attempts = Attempts()
        let flow = op.map { (x: Int) throws -> Int in
            attempts.next(x)
            if x == 1 { throw Permanent() }
            throw Transient()
        }.retry(.attempts(3), when: { $0 is Transient })
        let permanent = await #expect(throws: StageFailure.self) { try await flow.run(1) }
        #expect(permanent?.attempts == 1)
        #expect(permanent?.underlying is Permanent)
        let transient = await #expect(throws: StageFailure.self) { try await flow.run(2) }
        #expect(transient?.attempts == 3)
        #expect(attempts.count(1) == 1 && attempts.count(2) == 3)
    }

    @Test func cancellationIsNeverRetried() async throws {
        let calls = Counter()
        let p = Pipeline([1]) | op.map { (_: Int) async throws -> Int in
            calls.increment()
            throw CancellationError()
        }.retry(.attempts(5))
        await #expect(throws: CancellationError.self) { try await p.collect() }
        #expect(calls.value == 1)
    }

    @Test func cancellingTheCallerStopsABackoffWait() async throws {
        let clock = TestClock()
        let calls = Counter()
        let p = Pipeline([1]) | op.map { (_: Int) throws -> Int in
            calls.increment()
            throw Transient()
        }.retry(.attempts(5, backoff: .fixed(.seconds(1))), clock: clock)
        let task = Task { try await p.collect() }
        try await withDeadline {
            await clock.waitForSleepers(1)
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
        #expect(calls.value == 1)
        #expect(clock.sleepers == 0)
    }

    @Test func aFailureElsewhereStopsRetrying() async throws {
        let clock = TestClock()
        let attempts = Attempts()
        let p = Pipeline([0, 1]) | op.map { (x: Int) async throws -> Int in
            attempts.next(x)
            if x == 0 {
                await clock.waitForSleepers(1)   // item 1 is waiting to retry
                throw Permanent()
            }
            throw Transient()
        }.retry(.attempts(5, backoff: .fixed(.seconds(1))), clock: clock, when: { $0 is Transient }).workers(2)
        let failure = try await withDeadline {
            await #expect(throws: StageFailure.self) { try await p.collect() }
        }
        #expect(failure?.underlying is Permanent)
        #expect(attempts.count(1) == 1)
        #expect(clock.sleepers == 0)
    }

    @Test func eachWorkerRetriesItsOwnItemWhileTheOthersFlow() async throws {
        let clock = TestClock()
        let attempts = Attempts()
        let delivered = Counter()
        let p = Pipeline(0..<20) | op.map { (x: Int) async throws -> Int in
            if attempts.next(x) == 1 && x == 0 { throw Transient() }
            return x
        }.retry(.attempts(2, backoff: .fixed(.seconds(1))), clock: clock).workers(4).unordered()
        let seen = try await withDeadline {
            let all = Task {
                try await p.reduce(into: [Int]()) { all, x in
                    all.append(x)
                    delivered.increment()
                }
            }
            await delivered.wait(atLeast: 19)          // everything but item 0, while it waits
            #expect(clock.sleepers == 1)
            clock.advance(by: .seconds(1))
            return try await all.value
        }
        #expect(seen.sorted() == Array(0..<20))
        #expect(seen.last == 0)
        #expect(attempts.count(0) == 2)
    }

    @Test func orderedParallelRetryKeepsInputOrder() async throws {
        let attempts = Attempts()
        let p = Pipeline(0..<50) | op.map { (x: Int) async throws -> Int in
            if x % 7 == 0 && attempts.next(x) < 3 { throw Transient() }
            return x * 2
        }.retry(.attempts(3)).workers(4)
        #expect(try await p.collect() == (0..<50).map { $0 * 2 })
    }

    @Test func aRetriedItemIsEmittedOnce() async throws {
        let attempts = Attempts()
        // flatMap's outputs of a failed attempt never leave the stage.
        let p = Pipeline([1, 2]) | op.flatMap { (x: Int) async throws -> [Int] in
            if attempts.next(x) == 1 { throw Transient() }
            return [x, x * 10]
        }.retry(.attempts(2))
        #expect(try await p.collect() == [1, 10, 2, 20])
    }

    @Test func everyKindOfStageCanRetry() async throws {
        let attempts = Attempts()
        @Sendable func flaky(_ x: Int) throws {
            if attempts.next(x) == 1 { throw Transient() }
        }
        let kept = try await (Pipeline(1...4) | op.filter { (x: Int) in try flaky(x); return x.isMultiple(of: 2) }.retry(.attempts(2))).collect()
        #expect(kept == [2, 4])
        let compact = try await (Pipeline(11...12) | op.compactMap { (x: Int) -> Int? in try flaky(x); return x }.retry(.attempts(2))).collect()
        #expect(compact == [11, 12])
        let passed = try await (Pipeline(21...22) | op.forEach { (x: Int) in try flaky(x) }.retry(.attempts(2))).collect()
        #expect(passed == [21, 22])
        let built = try await Flow<Int, Int> { Map { (x: Int) in try flaky(x); return x }.retry(.attempts(2)) }.run(31)
        #expect(built == [31])
        #expect(attempts.total == 18)   // every item twice
    }

    @Test func aFragmentIsRetriedAsOneStage() async throws {
        let attempts = Attempts()
        let fragment = (op.map { (x: Int) in x + 1 } | op.map { (x: Int) throws -> Int in
            if attempts.next(x) < 3 { throw Transient() }
            return x * 10
        }).retry(.attempts(3))
        #expect(try await fragment.run(1) == [20])
        #expect(fragment.stages.count == 1)
        #expect(fragment.stages[0].children.map(\.kind) == ["map", "map"])
    }

    @Test func railwayFailuresCarryTheAttempts() async throws {
        let attempts = Attempts()
        let p = Pipeline([1, 2, 3]) | op.tryMap { (x: Int) throws -> Int in
            let n = attempts.next(x)
            if x == 2 { throw Transient() }         // always fails
            if x == 3 && n < 2 { throw Transient() } // fails once
            return x
        }.retry(.attempts(3)).named("fetch")
        let results = try await p.collect()
        #expect(results.count == 3)
        #expect(try results[0].get() == 1)
        guard case .failure(let failure) = results[1] else { Issue.record("item 2 should fail"); return }
        #expect(failure.attempts == 3)
        #expect(failure.stage == "fetch")
        #expect(failure.item as? Int == 2)
        #expect(try results[2].get() == 3)
        #expect(attempts.count(2) == 3 && attempts.count(3) == 2)
    }

    @Test func railwayFailuresFromUpstreamPassWithoutAttempts() async throws {
        let attempts = Attempts()
        let p = Pipeline([1, 2]) | op.tryMap { (x: Int) throws -> Int in
            if x == 1 { throw Permanent() }
            return x
        } | op.thenMap { (x: Int) throws -> Int in
            if attempts.next(x) == 1 { throw Transient() }
            return x * 100
        }.retry(.attempts(2))
        let results = try await p.collect()
        guard case .failure(let failure) = results[0] else { Issue.record("item 1 should fail"); return }
        #expect(failure.stage == "tryMap" && failure.attempts == 1)
        #expect(try results[1].get() == 200)
        #expect(attempts.total == 2)
    }
}
