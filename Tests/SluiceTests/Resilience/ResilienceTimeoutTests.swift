// Timeout: expiry in virtual time, cancellation of the expired attempt, retry after a timeout,
// the two orders of timeout and retry, and what a timeout cannot interrupt.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Synchronization
import Testing

@Suite struct ResilienceTimeoutTests {
    @Test func anExpiredAttemptIsCancelledAndFailsWithTimeoutError() async throws {
        let clock = TestClock()
        let never = Gate()
        let cancelled = Counter()
        let p = Pipeline([5]) | op.map { (x: Int) async throws -> Int in
            do { try await never.wait() } catch { cancelled.increment(); throw error }
            return x
        }.timeout(.seconds(2), clock: clock).named("slow")
        let result = Task { try await p.collect() }
        let failure = try await withDeadline {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(2))
            return await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(2)))
        #expect(failure?.stage == "slow")
        #expect(failure?.item as? Int == 5)
        #expect(failure?.attempts == 1)
        #expect(cancelled.value == 1)
        #expect(clock.sleeps == [.seconds(2)])
    }

    @Test func workThatFinishesInTimeIsUnaffected() async throws {
        let clock = TestClock()
        let p = Pipeline(0..<20) | op.map { (x: Int) async in x + 1 }.timeout(.seconds(1), clock: clock).workers(3)
        #expect(try await p.collect() == Array(1...20))
        #expect(clock.sleepers == 0)   // every timer was cancelled
    }

    /// Each worker keeps one watchdog that sleeps until the deadline of the item in hand: items
    /// that finish in time start no sleep of their own (a sleep per item, cancelled early, stayed
    /// registered with `ContinuousClock` until its deadline: memory grew with the item count).
    @Test(arguments: [1, 3])
    func aWorkersItemsShareOneSleep(workers: Int) async throws {
        let clock = TestClock()
        let p = Pipeline(0..<300) | op.map { (x: Int) async in x + 1 }.timeout(.seconds(60), clock: clock).workers(workers)
        #expect(try await withDeadline { try await p.collect() } == Array(1...300))
        #expect(clock.sleeps.count <= workers, "\(clock.sleeps.count) sleeps for 300 items")
        #expect(clock.sleepers == 0)
    }

    /// A stage inside `partitioned(by:)` (whose workers run no watchdog) still times out.
    @Test func aPartitionedStageTimesOut() async throws {
        let clock = TestClock()
        let never = Gate()
        // One item: its timer is the only sleeper, so the clock advances past its deadline.
        let p = Pipeline([2]) | op.map { (x: Int) async throws -> Int in
            try await never.wait()
            return x
        }.timeout(.seconds(2), clock: clock).workers(2).partitioned(by: { $0 }).named("keyed")
        let result = Task { try await p.collect() }
        let failure = try await withDeadline {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(2))
            return await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(2)))
        #expect(failure?.item as? Int == 2)
    }

    @Test func aTimedOutAttemptIsRetried() async throws {
        let clock = TestClock()
        let attempts = Attempts()
        let never = Gate()
        let p = Pipeline([1]) | op.map { (x: Int) async throws -> Int in
            if attempts.next(x) == 1 { try await never.wait() }
            return x * 10
        }
        .timeout(.seconds(2), clock: clock)                                  // per attempt
        .retry(.attempts(3, backoff: .fixed(.seconds(1))), clock: clock)
        let result = Task { try await p.collect() }
        let values = try await withDeadline {
            await clock.waitForSleepers(1)      // attempt 1's timer
            clock.advance(by: .seconds(2))
            await clock.waitForSleepers(1)      // the backoff
            clock.advance(by: .seconds(1))
            return try await result.value
        }
        #expect(values == [10])
        #expect(attempts.count(1) == 2)
        #expect(Array(clock.sleeps.prefix(2)) == [.seconds(2), .seconds(1)])
    }

    /// With a synchronous `map` the attempts run in a child task; with an async one, in the
    /// worker's task (the timed kernel, with the retries in its loop): the same outcome.
    @Test(arguments: [false, true])
    func aTimeoutAroundRetryLimitsAllAttemptsTogether(async: Bool) async throws {
        let clock = TestClock()
        let calls = Counter()
        let stage: Flow<Int, Int> = async
            ? op.map { (_: Int) async throws -> Int in
                calls.increment()
                throw Transient()
            }
            : op.map { (_: Int) throws -> Int in
                calls.increment()
                throw Transient()
            }
        let p = Pipeline([1]) | stage
            .retry(.attempts(10, backoff: .fixed(.seconds(1))), clock: clock)
            .timeout(.milliseconds(2500), clock: clock)                      // for the whole item
            .named("fetch")
        let result = Task { try await p.collect() }
        let failure = try await withDeadline {
            for _ in 0..<2 {
                await clock.waitForSleepers(2)  // the overall timer and a backoff
                clock.advance(by: .seconds(1))
            }
            await clock.waitForSleepers(2)
            clock.advance(by: .milliseconds(500))
            return await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(failure?.underlying is TimeoutError)
        #expect(failure?.stage == "fetch" && failure?.item as? Int == 1 && failure?.attempts == 3)
        #expect(calls.value == 3)
    }

    /// A deadline per attempt inside a retry, on an async `map`: every item's first attempt waits
    /// until the watchdog interrupts it (the test clock moves past its deadline once it waits),
    /// so each item restarts its worker's work at least once, at a different point of a chunk
    /// each time. (With several workers, a later attempt in hand when the clock moves times out
    /// too.) The outputs are exactly the plain map's (in order when ordered), and a measured run
    /// counts each input once and each retry once.
    ///
    /// Observed, each item's events are those of the layered path across its restarts: started
    /// once, a `retried` event per timed-out attempt, then succeeded with every attempt counted.
    @Test(arguments: [(1, false), (3, false), (3, true)], [false, true])
    func everyTimedOutAttemptRestartsItsWorkerAndKeepsTheOutputs(shape: (workers: Int, unordered: Bool), observed: Bool) async throws {
        let n = 200
        let attempts = Attempts(), never = Gate(), events = EventLedger()
        let clock = TestClock(), waiting = Counter()
        var flow = op.map { (x: Int) async throws -> Int in
            if attempts.next(x) == 1 {
                waiting.increment()
                try await never.wait()
            }
            return x * 2
        }
        .timeout(.seconds(1), clock: clock)
        .retry(.attempts(1_000), clock: ImmediateClock())
        if observed { flow = flow.observe { events.record($0) } }
        flow = flow.workers(shape.workers).named("fetch")
        if shape.unordered { flow = flow.unordered() }
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<n) | flow).metrics(metrics)
        let out = try await withDeadline { try await timingOutFirstAttempts(clock, waiting) { try await p.collect() } }
        let expected = (0..<n).map { $0 * 2 }
        #expect(shape.unordered ? out.sorted() == expected : out == expected)
        #expect((0..<n).allSatisfy { attempts.count($0) >= 2 })
        let tries = (0..<n).reduce(0) { $0 + attempts.count($1) }
        let stage = try #require(metrics.snapshot()["fetch"])
        #expect(stage.inputs == n && stage.outputs == n && stage.retries == tries - n && stage.failures == 0)
        if observed {
            for x in 0..<n {
                let k = attempts.count(x)
                let retries = (1..<k).map { "retried \($0) timeout" }
                #expect(events.of(x) == ["started"] + retries + ["succeeded \(k) [\(2 * x)]"], "item \(x)")
            }
        }
    }

    /// An observed item whose work restarts is reported cancelled when the run stops: a consumer
    /// that takes a few outputs and stops the run, while items keep restarting (every first attempt times
    /// out). Every started item ends with exactly one event — also one whose restart the worker
    /// ended without (the run stopped before a kernel took it back; see `ResumedWork.settle`).
    @Test func anObservedItemWhoseWorkRestartsEndsOnceWhenTheRunStops() async throws {
        for round in 0..<60 {
            let attempts = Attempts(), never = Gate(), events = EventLedger()
            let clock = TestClock(), waiting = Counter()
            let p = Pipeline(0..<100) | op.map { (x: Int) async throws -> Int in
                if attempts.next(x) == 1 {
                    waiting.increment()
                    try await never.wait()
                }
                return x
            }
            .timeout(.seconds(1), clock: clock)
            .retry(.attempts(1_000), clock: ImmediateClock())
            .observe { events.record($0) }
            .workers(1 + round % 3)
            let leaveAfter = 1 + round % 7
            // (`take` returns after the run ended: every event is in by then.)
            let taken = try await withDeadline { try await timingOutFirstAttempts(clock, waiting) { try await p.take(leaveAfter) } }
            #expect(taken.count == leaveAfter)
            for x in events.items {
                let kinds = events.of(x)
                let ends = kinds.filter { $0.hasPrefix("succeeded") || $0.hasPrefix("failed") || $0 == "cancelled" }
                #expect(kinds.first == "started" && ends.count == 1 && kinds.last == ends.first,
                        "round \(round), item \(x): \(kinds)")
            }
        }
    }

    /// Where something goes on after a timeout, the timed work runs in a child task and the worker
    /// carries on: middleware written after the timeout that turns it into an output, and a
    /// railway stage, whose timeout is a failure value. The items after the timed-out one are
    /// processed as usual.
    @Test func aTimeoutThatSomethingGoesOnAfterLeavesTheWorkerRunning() async throws {
        /// Item 2 waits until cancelled; the others honour cancellation (they would fail in a
        /// cancelled task). Item 2's deadline passes once it is in hand.
        @Sendable func run<T: Sendable>(_ timed: (@escaping @Sendable (Int) async throws -> Int, TestClock) -> Flow<Int, T>) async throws -> [T] {
            let clock = TestClock(), calls = Counter(), never = Gate()
            let p = Pipeline([1, 2, 3]) | timed({ x in
                calls.increment()
                if x == 2 { try await never.wait() }
                try Task.checkCancellation()
                return x * 10
            }, clock)
            return try await withDeadline {
                let result = Task { try await p.collect() }
                await calls.wait(atLeast: 2)
                clock.advance(by: .seconds(1))
                return try await result.value
            }
        }
        let caught = try await run { f, clock in
            op.map(f).timeout(.seconds(1), clock: clock).around { x, next in
                do { return try await next(x) } catch is TimeoutError { return [-x] }
            }
        }
        #expect(caught == [10, -2, 30])
        let results = try await run { f, clock in op.tryMap(f).timeout(.seconds(1), clock: clock) }
        #expect(results.map { try? $0.get() } == [10, nil, 30])
        guard case .failure(let failure) = results[1] else { Issue.record("item 2 did not fail"); return }
        #expect(failure.underlying is TimeoutError && failure.item as? Int == 2)
    }

    /// The same, every attempt timing out: the item fails after its last attempt with the timeout
    /// (observed: started, two retries, failed).
    @Test(arguments: [false, true])
    func aPerAttemptTimeoutThatAlwaysFiresFailsAfterTheLastAttempt(observed: Bool) async throws {
        let calls = Counter(), never = Gate(), events = EventLedger()
        var flow = op.map { (x: Int) async throws -> Int in
            calls.increment()
            try await never.wait()
            return x
        }
        .timeout(.seconds(1), clock: ImmediateClock())
        .retry(.attempts(3), clock: ImmediateClock())
        if observed { flow = flow.observe { events.record($0) } }
        let p = Pipeline([4]) | flow.named("stuck")
        let failure = try await withDeadline {
            await #expect(throws: StageFailure.self) { try await p.collect() }
        }
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(1)))
        #expect(failure?.stage == "stuck" && failure?.item as? Int == 4 && failure?.attempts == 3)
        #expect(calls.value == 3)
        #expect(events.of(4) == (observed ? ["started", "retried 1 timeout", "retried 2 timeout", "failed 3 timeout"] : []))
    }

    @Test func synchronousWorkIsNotPreempted() async throws {
        let clock = TestClock()
        let started = Counter(), sawCancellation = Counter(), ended = Counter()
        let release = Atomic<Bool>(false)
        let p = Pipeline([1]) | op.map { (x: Int) -> Int in
            started.increment()
            // Stands for blocking work: it only notices cancellation if it checks, and it goes
            // on as long as it likes.
            while !Task.isCancelled {}
            sawCancellation.increment()
            while !release.load(ordering: .acquiring) {}
            return x
        }.timeout(.seconds(1), clock: clock)
        let result = Task {
            defer { ended.increment() }
            return try await p.collect()
        }
        let failure = try await withDeadline {
            await started.wait(atLeast: 1)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            await sawCancellation.wait(atLeast: 1)     // the timeout fired and cancelled the work…
            await yieldRepeatedly()
            #expect(ended.value == 0)                 // …but the stage waits for it to return
            release.store(true, ordering: .releasing)
            return await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(failure?.underlying is TimeoutError)  // its result is discarded
    }

    @Test func cancellingTheCallerIsNotATimeout() async throws {
        let clock = TestClock()
        let never = Gate()
        let p = Pipeline([1]) | op.map { (x: Int) async throws -> Int in
            try await never.wait()
            return x
        }.timeout(.seconds(5), clock: clock).retry(.attempts(3), clock: clock)
        let task = Task { try await p.collect() }
        try await withDeadline {
            await clock.waitForSleepers(1)
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
        #expect(clock.sleeps == [.seconds(5)])   // no second attempt
    }

    /// An async `map` timed alone (its timed kernel): work that ignores the interrupt and
    /// returns late still fails with the timeout, its result is discarded, and the run waits for
    /// it to return.
    @Test func anAsyncMapsLateResultIsDiscarded() async throws {
        let clock = TestClock()
        let started = Counter(), sawCancellation = Counter()
        let release = Atomic<Bool>(false)
        let p = Pipeline([1, 2]) | op.map { (x: Int) async -> Int in
            started.increment()
            while !Task.isCancelled { await Task.yield() }
            sawCancellation.increment()
            while !release.load(ordering: .acquiring) { await Task.yield() }
            return x
        }.timeout(.seconds(1), clock: clock).named("late")
        let result = Task { try await p.collect() }
        let failure = try await withDeadline {
            await started.wait(atLeast: 1)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            await sawCancellation.wait(atLeast: 1)     // the watchdog interrupted the work
            release.store(true, ordering: .releasing)
            return await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(1)))
        #expect(failure?.stage == "late" && failure?.item as? Int == 1)
        #expect(started.value == 1)
    }

    /// Several workers, one item past its deadline: the ordered stage delivers what came before
    /// it, in order, and fails with that item's timeout.
    @Test func oneWorkersTimeoutFailsTheStageAfterThePrefix() async throws {
        let clock = TestClock()
        let never = Gate(), reached = Counter(), delivered = Counter()
        // A window of 3 over 3 workers: one item per chunk, so the items before 5 are delivered
        // while it waits.
        let p = Pipeline(0..<6) | op.map { (x: Int) async throws -> Int in
            if x == 5 {
                reached.increment()
                try await never.wait()
            }
            return x * 10
        }.timeout(.seconds(3), clock: clock).workers(3).ordered(window: 3).named("io")
        let seen = Lock<[Int]>([])
        let result = Task {
            try await p.forEach { y in
                seen.withLock { $0.append(y) }
                delivered.increment()
            }
        }
        let failure = try await withDeadline {
            // Items 0–4 ended and item 5 is in hand (its deadline is set before its work
            // starts); then time passes its deadline, and its worker's watchdog fires.
            await reached.wait(atLeast: 1)
            await delivered.wait(atLeast: 5)
            clock.advance(by: .seconds(3))
            return await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(3)))
        #expect(failure?.stage == "io" && failure?.item as? Int == 5)
        #expect(seen.withLock { $0 } == [0, 10, 20, 30, 40])
    }

    /// Cancelling the caller while a timed-alone item waits is a cancellation, not a timeout.
    @Test func cancellingTheCallerOfATimedKernelIsNotATimeout() async throws {
        let clock = TestClock()
        let never = Gate()
        let p = Pipeline([1]) | op.map { (x: Int) async throws -> Int in
            try await never.wait()
            return x
        }.timeout(.seconds(5), clock: clock)
        let task = Task { try await p.collect() }
        try await withDeadline {
            await clock.waitForSleepers(1)
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
        }
    }

    @Test func builderAndPipeStylesAgree() async throws {
        let clock = TestClock()
        let piped = op.map { (x: Int) async in x * 2 }.timeout(.seconds(1), clock: clock).retry(.attempts(2)).workers(2)
        let built = Flow<Int, Int> { Map { (x: Int) async in x * 2 }.timeout(.seconds(1), clock: clock).retry(.attempts(2)).workers(2) }
        #expect(piped.stages == built.stages)
        #expect(try await piped(1...5).collect() == built(1...5).collect())
    }
}

/// Runs `body` while a driver moves `clock` one second on each time another first attempt waits
/// (`waiting` counts them): that attempt passes its one-second deadline. Later attempts return
/// at once and the clock moves only for first attempts, so no item times out on every attempt
/// (a clock whose sleeps end at once made that possible on a slow machine). The driver stops
/// when `body` returns.
func timingOutFirstAttempts<T>(_ clock: TestClock, _ waiting: Counter, _ body: () async throws -> T) async throws -> T {
    let driver = Task {
        var moved = 0
        while true {
            await waiting.wait(atLeast: moved + 1)
            if Task.isCancelled { return }
            moved += 1
            clock.advance(by: .seconds(1))
        }
    }
    defer { driver.cancel() }
    return try await body()
}

/// Each item's events, in order, as short text: `started`, `retried 1 timeout`, `succeeded 2
/// [outputs]`, `failed 3 timeout`, `cancelled`.
final class EventLedger: Sendable {
    private let events = Recorder<(item: Int, text: String)>()

    func record(_ event: StageEvent<Int>) {
        @Sendable func reason(_ error: any Error) -> String { error is TimeoutError ? "timeout" : "\(error)" }
        let text = switch event.kind {
        case .started: "started"
        case .retried(let attempt, _, let error): "retried \(attempt) \(reason(error))"
        case .succeeded(_, let attempts): "succeeded \(attempts) \(event.outputs(as: Int.self))"
        case .failed(let failure, _): "failed \(failure.attempts) \(reason(failure.underlying))"
        case .cancelled: "cancelled"
        }
        events.record((event.item, text))
    }

    /// The events of item `x`, in order.
    func of(_ x: Int) -> [String] { events.all.filter { $0.item == x }.map(\.text) }
    /// The items that have events.
    var items: Set<Int> { Set(events.all.map(\.item)) }
}
