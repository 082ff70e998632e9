// An asynchronous `map` is built with a kernel compiled for its concrete types (its per-item loop
// and its sends run without generic look-ups); the kernel keeps every promise of the generic path.
import Testing
@testable import Sluice
import SluiceExecutor
import SluiceTestSupport

@Suite struct AsyncKernelTests {
    private func hasAsyncKernel<Output>(_ flow: Flow<Int, Output>) -> Bool {
        guard flow.nodes.count == 1 else { return false }
        let context = StageContext(name: "s", path: nil, stop: StopSignal(), scope: WorkerScope(), meter: nil)
        return flow.nodes[0].body.erasedAsyncKernel(context: context) != nil
    }

    /// Both front ends build the kernel; a synchronous `map` (fused, chunk kernel) does not need one.
    @Test func bothSpellingsBuildTheKernel() {
        let f: @Sendable (Int) async throws -> Int = { $0 + 1 }
        #expect(hasAsyncKernel(op.map(f)))
        #expect(hasAsyncKernel(Flow<Int, Int> { Map(f) }))
        #expect(hasAsyncKernel(op.map(f).workers(4).unordered()))
        #expect(!hasAsyncKernel(op.map { (x: Int) in x + 1 }))
    }

    /// An asynchronous `map` with middleware runs its kernel too, one that takes the outputs the
    /// middleware returns, any number per item: none (item 3), two (item 4), or one for a changed
    /// input; in order with several workers (ordered), with each item's events, and counted by a
    /// measured run. A railway stage with middleware keeps the generic path.
    @Test(arguments: [1, 3])
    func middlewareRunsInTheKernelWithAnyNumberOfOutputs(workers: Int) async throws {
        let stage = op.map { (x: Int) async throws -> Int in x * 10 }.around { x, next in
            switch x % 5 {
            case 3: return []
            case 4: return try await next(x) + next(x)
            case 0: return try await next(x + 1)
            default: return try await next(x)
            }
        }
        #expect(hasAsyncKernel(stage))
        #expect(!hasAsyncKernel(op.tryMap { (x: Int) async throws -> Int in x }.around { x, next in try await next(x) }))
        let succeeded = Recorder<String>()
        let metrics = PipelineMetrics()
        let flow = stage.observe { event in
            if case .succeeded = event.kind { succeeded.record("\(event.item): \(event.outputs(as: Int.self))") }
        }.workers(workers).named("m")
        let out = try await (Pipeline(1...10) | flow).metrics(metrics).collect()
        #expect(out == [10, 20, 40, 40, 60, 60, 70, 90, 90, 110])
        #expect(succeeded.all.sorted() == ["1: [10]", "10: [110]", "2: [20]", "3: []", "4: [40, 40]", "5: [60]", "6: [60]", "7: [70]", "8: []", "9: [90, 90]"].sorted())
        let counts = try #require(metrics.snapshot()["m"])
        #expect(counts.inputs == 10 && counts.outputs == 10)
    }

    /// An asynchronous `tryMap` has one too (both spellings), and its failures stay values that
    /// name the stage and the item.
    @Test func tryMapBuildsTheKernelAndKeepsFailuresAsValues() async throws {
        struct Odd: Error {}
        let f: @Sendable (Int) async throws -> Int = { x in
            if x % 2 == 1 { throw Odd() }
            return x
        }
        let context = StageContext(name: "s", path: nil, stop: StopSignal(), scope: WorkerScope(), meter: nil)
        for flow in [op.tryMap(f), Flow<Int, Result<Int, StageFailure>> { TryMap(f) }] {
            #expect(flow.nodes.count == 1 && flow.nodes[0].body.erasedAsyncKernel(context: context) != nil)
        }
        let out = try await (Pipeline(0..<6) | op.tryMap(f).named("even")).collect()
        #expect(out.compactMap { try? $0.get() } == [0, 2, 4])
        let failures = out.compactMap { result -> StageFailure? in
            if case .failure(let failure) = result { return failure }
            return nil
        }
        #expect(failures.map(\.stage) == ["even", "even", "even"])
        #expect(failures.compactMap { $0.item as? Int } == [1, 3, 5])
        #expect(failures.allSatisfy { $0.underlying is Odd })
    }

    /// A failure in the middle of a chunk: the outputs of the items before it still arrive, in
    /// order, and the run throws the `StageFailure` naming the stage and the item.
    @Test(arguments: [1, 4])
    func aFailureKeepsThePrefix(workers: Int) async throws {
        struct Boom: Error {}
        let stage = op.map { (x: Int) async throws -> Int in
            if x == 700 { throw Boom() }
            return x * 2
        }.named("double").workers(workers)
        let collected = Recorder<Int>()
        await #expect {
            try await (Pipeline(0..<1_000) | stage).forEach { y in collected.record(y) }
        } throws: { error in
            guard let failure = error as? StageFailure else { return false }
            return failure.stage == "double" && failure.item as? Int == 700 && failure.underlying is Boom
        }
        #expect(collected.all == (0..<700).map { $0 * 2 })
    }

    /// Once a run stops (here: `first()` has its item), the kernel starts no further item: a
    /// stage whose items wait on a gate is not called again after the run returns.
    @Test func noItemStartsAfterTheRunStops() async throws {
        let calls = Counter()
        let stage = op.map { (x: Int) async -> Int in
            _ = calls.increment()
            return x
        }
        let first = try await (Pipeline(0..<100_000) | stage).first()
        #expect(first == 0)
        let after = calls.value
        #expect(after < 100_000)
        // Nothing of the run is left running: the count does not move any more.
        await Task.yield()
        #expect(calls.value == after)
    }

    /// A measured run counts the kernel's inputs, outputs, failure and busy time, as the generic
    /// path does: the failing item entered the stage, its output never left.
    @Test func aMeasuredRunCountsTheKernelsItems() async throws {
        struct Boom: Error {}
        let metrics = PipelineMetrics()
        let p = Pipeline(0..<10) | op.map { (x: Int) async throws -> Int in
            if x == 5 { throw Boom() }
            return x
        }.named("second")
        await #expect(throws: StageFailure.self) { try await p.metrics(metrics).collect() }
        let s = metrics.snapshot()
        #expect(s["second"]!.failures == 1)
        #expect(s["second"]!.inputs == 6 && s["second"]!.outputs == 5)
        #expect(s["second"]!.busy > .zero)
    }

    /// Quick items (under 5 µs) are taken up to `quickChunk` (64) at a time by the workers of a parallel stage
    /// (not a share of the queue each), so when one of them turns out slow (a cache miss among
    /// hits), the other workers go on with the rest: at most the 63 others of its chunk wait
    /// behind it. (The test cannot force a full queue, so it checks that the others go on, not
    /// that the chunk reached 64.)
    @Test func atMostAQuickChunkWaitsBehindASlowItem() async throws {
        let gate = Gate(), completed = Counter()
        let n = 2_000, slow = 1_000
        let stage = op.map { (x: Int) async throws -> Int in
            if x == slow { try await gate.wait() }
            completed.increment()
            return x
        }.workers(4).unordered()
        let outputs: [Int] = try await withDeadline(seconds: 30) {
            async let outputs = (Pipeline(0..<n) | stage).collect()
            // Every item but the slow one and the (at most) 63 others in its worker's chunk completes.
            await completed.wait(atLeast: n - 1 - (TakeSize.quickChunk - 1))
            gate.open()
            return try await outputs
        }
        #expect(outputs.sorted() == Array(0..<n))
    }

    /// A `map` whose only policy is `retry` (unobserved) retries inside its kernel's loop: the
    /// same attempts, backoff on the given clock, and the same final failure as the policy path.
    @Test func retryAloneRetriesInsideTheKernel() async throws {
        let f: @Sendable (Int) async throws -> Int = { $0 }
        #expect(hasAsyncKernel(op.map(f).retry(.attempts(3))))
        #expect(hasAsyncKernel(Flow<Int, Int> { Map(f).retry(.attempts(3)) }))

        let clock = TestClock(), calls = Counter()
        let flaky = op.map { (x: Int) async throws -> Int in
            // Item 1 fails twice, item 2 always: backoff 1 s before each retry.
            if x == 1 && calls.increment() <= 2 { throw Transient() }
            if x == 2 { throw Transient() }
            return x * 10
        }.retry(.attempts(3, backoff: .fixed(.seconds(1))), clock: clock).named("fetch")
        let run = Task { try await (Pipeline(0..<3) | flaky).collect() }
        try await withDeadline {
            for _ in 0..<4 {   // two retries of item 1, then two of item 2
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(1))
            }
        }
        let failure = await #expect(throws: StageFailure.self) { try await run.value }
        #expect(failure?.stage == "fetch" && failure?.item as? Int == 2 && failure?.attempts == 3)
        #expect(failure?.underlying is Transient)
        #expect(clock.sleeps == [.seconds(1), .seconds(1), .seconds(1), .seconds(1)])
        #expect(calls.value == 3, "item 1: two failures, then its output")
    }

    /// Runs `flow`'s kernel over `input` the way a worker does (companions beside it), in a scope
    /// whose `interrupt` is `interrupt`; returns the failure it threw and the outputs it kept.
    private func runKernel(_ flow: Flow<Int, Int>, name: String = "s", interrupt: (@Sendable () -> Void)?, _ input: [Int]) async throws -> (StageFailure?, [Int]) {
        let (error, outputs, _) = try await runKernelRaw(flow, name: name, interrupt: interrupt, input)
        return (error as? StageFailure, outputs)
    }

    /// `runKernel`, returning the error as thrown and what the kernel left of its input.
    private func runKernelRaw(_ flow: Flow<Int, Int>, name: String = "s", interrupt: (@Sendable () -> Void)?, _ input: [Int]) async throws -> ((any Error)?, [Int], [Int]) {
        let scope = WorkerScope()
        scope.interrupt = interrupt
        let stop = StopSignal()
        let context = StageContext(name: name, path: nil, stop: stop, scope: scope, meter: nil)
        let kernel = try #require(flow.nodes[0].body.erasedAsyncKernel(context: context) as? AsyncChunkKernel<Int, Int>)
        #expect(scope.companions.count == 1, "the worker's watchdog")
        let outbox = Outbox<Int>()
        let handOver = AsyncHandOver(stop: stop, direct: nil, outbox: outbox, fullAt: 100) {}
        var input = input
        let failure = await scope.withCompanions { () async -> (any Error)? in
            do {
                try await kernel.process(&input, handOver)
                return nil
            } catch {
                return error
            }
        }
        return (failure, outbox.items, input)
    }

    /// A `map` that stalls on item 2 until `gate` opens (ignoring cancellation), with `policies`;
    /// and a driver that, once item 2 is in hand, moves `clock` past its 2 s deadline, waits for
    /// the interrupt, then opens the gate.
    private func stallOnItem2(_ policies: (Flow<Int, Int>) -> Flow<Int, Int>, clock: TestClock, interrupts: Counter, calls: Counter) -> (Flow<Int, Int>, Task<Void, any Error>) {
        let gate = Gate()
        let flow = policies(op.map { (x: Int) async -> Int in
            calls.increment()
            if x == 2 { try? await gate.wait() }
            return x * 10
        })
        let driver = Task {
            defer { gate.open() }   // also when the deadline below fails the test
            try await withDeadline {
                // Item 2 in hand (its deadline, 2 s, is set before its work starts), then time
                // passes it: the watchdog fires, whether it sleeps yet or not.
                await calls.wait(atLeast: 2)
                clock.advance(by: .seconds(2))
                await interrupts.wait(atLeast: 1)
            }
        }
        return (flow, driver)
    }

    /// An asynchronous `map` whose outermost policy is the `timeout` (alone or around a `retry`;
    /// unobserved, or with a synchronous or an asynchronous observer), in a worker whose task can
    /// be interrupted, runs a kernel with a watchdog around the item's work (the timed kernel,
    /// the observed kernel, or, observed with a `retry`, the layered call): the work runs in the
    /// worker's own task (no task per item), and the watchdog interrupts that task when the item
    /// passes its deadline (with a child task per item, the interrupt would never be called and
    /// the driver would wait in vain). Here the interrupt only counts, so the work goes on and
    /// returns: the item fails with the timeout all the same, its result is discarded, no later
    /// item starts, and the observers see item 1 succeed and item 2 fail with the timeout.
    @Test(arguments: ["none", "synchronous", "asynchronous"], [false, true])
    func aTimeoutOutermostInterruptsTheWorkersTask(observer: String, retryInside: Bool) async throws {
        let clock = TestClock(), interrupts = Counter(), calls = Counter()
        let events = Recorder<String>()
        @Sendable func describe(_ event: StageEvent<Int>) -> String {
            switch event.kind {
            case .started: "\(event.item) started"
            case .succeeded(_, let attempts): "\(event.item) succeeded \(event.outputs) after \(attempts)"
            case .failed(let failure, _): "\(event.item) failed: \(failure.underlying is TimeoutError ? "timeout" : "\(failure.underlying)") after \(failure.attempts)"
            default: "\(event.item) \(event.kind)"
            }
        }
        let (flow, driver) = stallOnItem2({ stage in
            let timed = (retryInside ? stage.retry(.attempts(3), clock: clock) : stage).timeout(.seconds(2), clock: clock)
            switch observer {
            case "synchronous": return timed.observe { events.record(describe($0)) }
            case "asynchronous": return timed.observe { (event: StageEvent<Int>) async in events.record(describe(event)) }
            default: return timed
            }
        }, clock: clock, interrupts: interrupts, calls: calls)
        let (failure, outputs) = try await runKernel(flow, name: "timed", interrupt: { interrupts.increment() }, [1, 2, 3])
        try await driver.value
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(2)))
        #expect(failure?.stage == "timed" && failure?.item as? Int == 2 && failure?.attempts == 1)
        #expect(interrupts.value == 1)
        #expect(outputs == [10], "item 2's late result is discarded")
        #expect(calls.value == 2, "item 3 never starts")
        #expect(events.all == (observer == "none" ? [] : ["1 started", "1 succeeded [10] after 1", "2 started", "2 failed: timeout after 1"]))
    }

    /// A `timeout` inside a `retry`, observed: the timed kernel runs, and an attempt that times
    /// out and is to be retried asks for a restart that carries the item's start (its events time
    /// the whole item) and how to report it cancelled if its work does not go on. The worker
    /// reports it once, and only if no kernel took the restart back.
    @Test(arguments: [false, true])
    func anObservedTimedOutAttemptRestartsWithItsStart(takenBack: Bool) async throws {
        let clock = TestClock(), interrupts = Counter(), calls = Counter()
        let events = Recorder<String>()
        let (flow, driver) = stallOnItem2({
            $0.timeout(.seconds(2), clock: clock).retry(.attempts(3), clock: clock).observe { event in
                switch event.kind {
                case .started: events.record("\(event.item) started")
                case .succeeded(_, let attempts): events.record("\(event.item) succeeded \(event.outputs) after \(attempts)")
                case .cancelled: events.record("\(event.item) cancelled")
                default: events.record("\(event.item) \(event.kind)")
                }
            }
        }, clock: clock, interrupts: interrupts, calls: calls)
        let before = monotonicNanoseconds()
        let (error, outputs, left) = try await runKernelRaw(flow, interrupt: { interrupts.increment() }, [1, 2, 3])
        try await driver.value
        let restart = try #require(error as? WorkRestart)
        #expect(restart.nextAttempt == 2)
        #expect(restart.startedAt >= before && restart.startedAt <= monotonicNanoseconds(), "item 2's start")
        #expect(outputs == [10] && left == [2, 3] && interrupts.value == 1)
        #expect(events.all == ["1 started", "1 succeeded [10] after 1", "2 started"])
        let resumed = ResumedWork(restart)
        if takenBack { #expect(resumed.take()?.nextAttempt == 2) }
        await resumed.settle()
        await resumed.settle()
        #expect(events.all == ["1 started", "1 succeeded [10] after 1", "2 started"] + (takenBack ? [] : ["2 cancelled"]))
    }

    /// Without an interruptible task (a test's bare scope), the same stage still has a kernel: the
    /// layered one, whose item runs in a child task. So the timed kernel is chosen by the worker,
    /// not assumed.
    @Test func timeoutWithoutAnInterruptibleWorkerUsesTheLayers() async throws {
        let clock = TestClock(), never = Gate()
        let flow = op.map { (x: Int) async throws -> Int in
            try await never.wait()
            return x
        }.timeout(.seconds(2), clock: clock)
        let driver = Task {
            try await withDeadline {
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(2))
            }
        }
        let (failure, _) = try await runKernel(flow, interrupt: nil, [7])
        try await driver.value
        // The child task was cancelled (the gate threw) and the failure is the same.
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(2)))
        #expect(failure?.item as? Int == 7)
    }

    /// `retry` inside a `timeout` (one deadline for all attempts and waits), unobserved, runs the
    /// timed kernel with the retry in its loop: when the deadline passes during a backoff, the
    /// interrupt cancels the worker's task and the item fails with the timeout and the attempts
    /// made so far.
    @Test func retryInsideATimeoutRunsInTheTimedKernel() async throws {
        let clock = TestClock(), calls = Counter(), interrupts = Counter()
        let flow = op.map { (_: Int) async throws -> Int in
            calls.increment()
            throw Transient()
        }
        .retry(.attempts(10, backoff: .fixed(.seconds(1))), clock: clock)
        .timeout(.milliseconds(2500), clock: clock)
        // The interrupt cancels the task running the kernel, as the worker's watcher does.
        let running = Lock<Task<(StageFailure?, [Int]), any Error>?>(nil)
        let task = Task {
            try await runKernel(flow, interrupt: {
                interrupts.increment()
                running.withLock { $0 }?.cancel()
            }, [1])
        }
        running.withLock { $0 = task }
        let (failure, outputs) = try await withDeadline {
            for _ in 0..<2 {
                await clock.waitForSleepers(2)   // the watchdog and a backoff
                clock.advance(by: .seconds(1))
            }
            await clock.waitForSleepers(2)
            clock.advance(by: .milliseconds(500))
            return try await task.value
        }
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .milliseconds(2500)))
        #expect(failure?.item as? Int == 1 && failure?.attempts == 3)
        #expect(interrupts.value == 1)
        #expect(calls.value == 3)
        #expect(outputs.isEmpty)
    }

    /// A deadline per attempt inside a retry (`.timeout(…).retry(…)`): an attempt that times out
    /// and is to be retried leaves the rest of the chunk (that item first) in the kernel's input
    /// and asks the worker to restart its work in a new task, with the next attempt.
    @Test func aTimedOutAttemptInsideRetryAsksForARestart() async throws {
        let clock = TestClock(), interrupts = Counter(), calls = Counter()
        let (flow, driver) = stallOnItem2({ $0.timeout(.seconds(2), clock: clock).retry(.attempts(3), clock: clock) },
                                          clock: clock, interrupts: interrupts, calls: calls)
        let (error, outputs, left) = try await runKernelRaw(flow, interrupt: { interrupts.increment() }, [1, 2, 3])
        try await driver.value
        #expect((error as? WorkRestart)?.nextAttempt == 2)
        #expect(outputs == [10])
        #expect(left == [2, 3])
        #expect(calls.value == 2)
    }

    /// Runs `flow`'s first stage on the generic path (its sink: middleware is not a kernel's) over
    /// `input`, the way a worker does (companions beside it), in a scope whose `interrupt` is
    /// `interrupt`; returns the error it threw and the outputs it pushed.
    private func runSink(_ flow: Flow<Int, Int>, name: String = "s", interrupt: (@Sendable () -> Void)?, _ input: [Int]) async throws -> ((any Error)?, [Int]) {
        let scope = WorkerScope()
        scope.interrupt = interrupt
        let context = StageContext(name: name, path: nil, stop: StopSignal(), scope: scope, meter: nil)
        let outputs = Recorder<Int>()
        let sink = try #require(flow.nodes[0].body.erasedAsyncSink(
            AsyncSink<Int>(push: { outputs.record($0) }, finish: {}), context: context) as? AsyncSink<Int>)
        let failure = await scope.withCompanions { () async -> (any Error)? in
            do {
                for x in input { try await sink.push(x) }
                return nil
            } catch {
                return error
            }
        }
        return (failure, outputs.all)
    }

    /// A `timeout` outermost around other layers (middleware; middleware inside a `retry`; two
    /// retries; or with only a rate limiter outside it) interrupts the worker's task, in the map's
    /// kernel (the layers' per-item function; with middleware, the kernel that takes any number
    /// of outputs per item) and on the generic path (the stage's sink, which other stages and a
    /// map without a kernel use): the item's work runs in the worker's own task, not in a child
    /// task per item (then the interrupt would never be called and the driver would wait in
    /// vain). The item fails with the timeout, its late result is discarded, and no later item
    /// starts.
    @Test(arguments: ["middleware", "middleware inside retry", "two retries", "middleware, rate limited outside"], ["kernel", "sink"])
    func aTimeoutOutermostAroundOtherLayersInterruptsTheWorkersTask(layers: String, path: String) async throws {
        let clock = TestClock(), interrupts = Counter(), calls = Counter()
        let middlewareCalls = Counter()
        let (flow, driver) = stallOnItem2({ stage in
            let around = stage.around { x, next in
                middlewareCalls.increment()
                return try await next(x)
            }
            let inner: Flow<Int, Int> = switch layers {
            case "middleware", "middleware, rate limited outside": around
            case "middleware inside retry": around.retry(.attempts(3), clock: clock)
            default: stage.retry(.attempts(2), clock: clock).retry(.attempts(2), clock: clock)
            }
            let timed = inner.timeout(.seconds(2), clock: clock)
            // A rate limiter outside the timeout passes its failure on: the timeout may still
            // interrupt.
            return layers.hasSuffix("outside") ? timed.rateLimited(RateLimiter(rate: 1_000, burst: 10, clock: ImmediateClock())) : timed
        }, clock: clock, interrupts: interrupts, calls: calls)
        let error: (any Error)?, outputs: [Int]
        if path == "kernel" {
            (error, outputs, _) = try await runKernelRaw(flow, name: "timed", interrupt: { interrupts.increment() }, [1, 2, 3])
        } else {
            (error, outputs) = try await runSink(flow, name: "timed", interrupt: { interrupts.increment() }, [1, 2, 3])
        }
        try await driver.value
        let failure = error as? StageFailure
        #expect(failure?.underlying as? TimeoutError == TimeoutError(limit: .seconds(2)))
        #expect(failure?.stage == "timed" && failure?.item as? Int == 2 && failure?.attempts == 1)
        #expect(interrupts.value == 1)
        #expect(outputs == [10], "item 2's late result is discarded")
        #expect(calls.value == 2, "item 3 never starts")
        #expect(middlewareCalls.value == (layers == "two retries" ? 0 : 2))
    }

    /// The same stage inside a fragment whose own `retry` may go on after it fails: interrupting
    /// the worker's task would leave that retry running cancelled, so the item's work runs in a
    /// child task, the interrupt is never called, and the retried item succeeds.
    @Test func aTimeoutInsideAnEnclosingRetryKeepsAChildTask() async throws {
        let clock = TestClock(), interrupts = Counter(), calls = Counter(), never = Gate()
        let flow = Flow<Int, Int> {
            Map { (x: Int) async throws -> Int in
                // The first attempt of item 2 waits until its child task is cancelled.
                if x == 2 && calls.increment() == 1 { try await never.wait() }
                return x * 10
            }
            .around { x, next in try await next(x) }
            .timeout(.seconds(2), clock: clock)
            Map { (x: Int) in x + 1 }
        }.retry(.attempts(2), clock: clock)
        let driver = Task {
            try await withDeadline {
                await clock.waitForSleepers(1)   // item 2's attempt in hand (its watchdog sleeps)
                await calls.wait(atLeast: 1)
                clock.advance(by: .seconds(2))
            }
        }
        // The interrupt cancels the task running the stage, as the worker's watcher does: the
        // enclosing retry would then fail the item (cancelled) rather than retry it.
        let running = Lock<Task<((any Error)?, [Int]), any Error>?>(nil)
        let task = Task {
            try await runSink(flow, interrupt: {
                interrupts.increment()
                running.withLock { $0 }?.cancel()
            }, [1, 2, 3])
        }
        running.withLock { $0 = task }
        let (error, outputs) = try await withDeadline { try await task.value }
        try await driver.value
        #expect(error == nil)
        #expect(outputs == [11, 21, 31])
        #expect(interrupts.value == 0)
    }
}
