// Observers: the per-item event order for success, failure, retry and cancellation, with one
// worker and with four; several observers; async observers; railway items that only pass.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Testing

@Suite struct ResilienceHooksTests {
    /// Events per item, in the order each item's events were delivered.
    static func byItem(_ events: [StageEvent<Int>]) -> [Int: [String]] {
        events.reduce(into: [:]) { $0[$1.item, default: []].append(label($1)) }
    }

    @Test func successIsStartedThenSucceeded() async throws {
        let events = Recorder<StageEvent<Int>>()
        let out = try await (Pipeline([1, 2]) | op.map { $0 * 2 }.named("double").observe { events.record($0) }).collect()
        #expect(out == [2, 4])
        #expect(events.all.map(label) == ["started", "succeeded(1)", "started", "succeeded(1)"])
        #expect(events.all.map(\.item) == [1, 1, 2, 2])
        #expect(events.all.allSatisfy { $0.stage == "double" })
        if case .succeeded(let duration, _) = events.all[1].kind { #expect(duration >= .zero) }
    }

    @Test func failureIsStartedThenFailed() async throws {
        let events = Recorder<StageEvent<Int>>()
        let p = Pipeline([1]) | op.map { (_: Int) throws -> Int in throw Permanent() }.observe { events.record($0) }
        let thrown = await #expect(throws: StageFailure.self) { try await p.collect() }
        #expect(events.all.map(label) == ["started", "failed(1)"])
        guard case .failed(let failure, _) = events.all.last?.kind else { return }
        #expect(failure.underlying is Permanent && failure.item as? Int == 1)
        #expect(thrown?.underlying is Permanent)
    }

    @Test func retriesAreReportedBetweenStartAndOutcome() async throws {
        let clock = TestClock()
        let attempts = Attempts()
        let events = Recorder<StageEvent<Int>>()
        let p = Pipeline([1, 2]) | op.map { (x: Int) throws -> Int in
            let n = attempts.next(x)
            if x == 1 && n < 3 { throw Transient() }   // succeeds on attempt 3
            if x == 2 { throw Transient() }            // never succeeds
            return x
        }
        .retry(.attempts(3, backoff: .exponential(initial: .seconds(1), max: .seconds(10))), clock: clock)
        .observe { events.record($0) }
        let result = Task { try await p.collect() }
        try await withDeadline {
            await advanceThroughSleeps(clock, count: 4)
            await #expect(throws: StageFailure.self) { try await result.value }
        }
        #expect(Self.byItem(events.all) == [
            1: ["started", "retried(1)", "retried(2)", "succeeded(3)"],
            2: ["started", "retried(1)", "retried(2)", "failed(3)"],
        ])
        let delays = events.all.compactMap { event -> Duration? in
            if case .retried(_, let delay, let error) = event.kind, error is Transient { return delay }
            return nil
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(1), .seconds(2)])
    }

    /// An async `map` observed alone runs its observed kernel: the same events, with the output
    /// and the duration on `succeeded`, and the final failure on `failed`.
    @Test func anObservedAsyncMapReportsTheSameEvents() async throws {
        let events = Recorder<StageEvent<Int>>()
        let p = Pipeline(0..<4) | op.map { (x: Int) async throws -> Int in
            if x == 3 { throw Permanent() }
            return x * 10
        }.named("fetch").observe { events.record($0) }
        let seen = Lock<[Int]>([])
        let thrown = await #expect(throws: StageFailure.self) { try await p.forEach { y in seen.withLock { $0.append(y) } } }
        #expect(seen.withLock { $0 } == [0, 10, 20])
        #expect(events.all.map(label) == ["started", "succeeded(1)", "started", "succeeded(1)", "started", "succeeded(1)", "started", "failed(1)"])
        #expect(events.all.allSatisfy { $0.stage == "fetch" })
        #expect(events.all.filter { if case .succeeded = $0.kind { true } else { false } }.map { $0.outputs(as: Int.self) } == [[0], [10], [20]])
        guard case .failed(let failure, let duration) = events.all.last?.kind else { return }
        #expect(failure.underlying is Permanent && failure.item as? Int == 3 && failure.stage == "fetch" && failure.attempts == 1)
        #expect(duration >= .zero)
        #expect(thrown?.item as? Int == 3)
    }

    /// The observed kernel reuses two events per chunk, setting each item's item, kind and output
    /// in place once the observers are done with the last; an observer that keeps the events must
    /// still see each item's own item and output (the event's storage is copied when shared).
    @Test(arguments: [false, true])
    func anObserverThatKeepsEventsSeesEachItemsOwnItemAndOutput(asynchronous: Bool) async throws {
        let events = Recorder<StageEvent<Int>>()
        let stage = op.map { (x: Int) async in x * 3 }
        let keep: StageObserver<Int> = { events.record($0) }
        let p = Pipeline(0..<500) | (asynchronous ? stage.observe(keep) : stage.observe { events.record($0) })
        #expect(try await p.reduce(0, +) == (0..<500).reduce(0) { $0 + $1 * 3 })
        let succeeded = events.all.filter { if case .succeeded = $0.kind { true } else { false } }
        #expect(succeeded.count == 500)
        #expect(succeeded.allSatisfy { $0.outputs(as: Int.self) == [$0.item * 3] })
        #expect(Set(succeeded.map(\.item)) == Set(0..<500))
        let started = events.all.filter { if case .started = $0.kind { true } else { false } }
        #expect(started.map(\.item) == Array(0..<500))
        #expect(started.allSatisfy { $0.outputs.isEmpty && $0.stage == succeeded[0].stage })
    }

    /// `observe` with a closure that has no `await` takes it as a synchronous observer (called
    /// inline); a closure with `await`, or one typed `StageObserver`, stays asynchronous.
    @Test func aClosureWithoutAwaitIsASynchronousObserver() throws {
        func entries(_ flow: Flow<Int, Int>) throws -> [String] {
            let policy = try #require(flow.nodes.first?.body as? PolicyBody<Int, Int>)
            return policy.observers.map { if case .synchronous = $0 { "sync" } else { "async" } }
        }
        let asynchronous: StageObserver<Int> = { _ in }
        let flow = op.map { (x: Int) async in x }
            .observe { _ in }
            .observe { _ in await Task.yield() }
            .observe(asynchronous)
        #expect(try entries(flow) == ["sync", "async", "async"])
        let each = (op.map { (x: Int) in x } | op.map { (x: Int) async in x }).observeEachStage { _ in }
        #expect(try each.nodes.map { node in
            let policy = try #require(node.body as? PolicyBody<Int, Int>)
            return policy.observers.map { if case .synchronous = $0 { "sync" } else { "async" } }
        } == [["sync"], ["sync"]])
    }

    /// A synchronous and an asynchronous observer on the same stage see the same events per item,
    /// on each path an observed stage can take: the async `map`'s observed kernel, the policy path
    /// (a synchronous `map`, or with a retry), one worker or several, success and failure.
    @Test(arguments: ["async", "sync", "async retry", "async workers", "sync workers retry"])
    func synchronousAndAsynchronousObserversSeeTheSameEvents(shape: String) async throws {
        let attempts = Attempts()
        let inline = Recorder<StageEvent<Int>>(), awaited = Recorder<StageEvent<Int>>()
        let awaitedObserver: StageObserver<Int> = { event in
            await Task.yield()
            awaited.record(event)
        }
        let retries = shape.contains("retry")
        @Sendable func body(_ x: Int) throws -> Int {
            if retries && x % 3 == 1 && attempts.next(x) == 1 { throw Transient() }
            if x == 17 { throw Permanent() }
            return x * 2
        }
        var flow: Flow<Int, Int> = shape.hasPrefix("async") ? op.map { (x: Int) async throws in try body(x) } : op.map(body)
        if retries { flow = flow.retry(.attempts(2)) }
        if shape.contains("workers") { flow = flow.workers(3) }
        flow = flow.observe { inline.record($0) }.observe(awaitedObserver)
        let (items, error) = await readUntilFailure(Pipeline(0..<20) | flow)
        #expect(error is StageFailure)
        #expect(items.allSatisfy { $0 % 2 == 0 })
        let byItem = Self.byItem(inline.all)
        #expect(byItem == Self.byItem(awaited.all))
        #expect(byItem[17] == (retries ? ["started", "retried(1)", "failed(2)"] : ["started", "failed(1)"]))
        if !shape.contains("workers") {   // one worker: every item before the failure succeeded
            #expect(items == (0..<17).map { $0 * 2 })
            #expect(byItem[0] == ["started", "succeeded(1)"])
            if retries { #expect(byItem[1] == ["started", "retried(1)", "succeeded(2)"]) }
        }
        // Every item started ended once, whether it succeeded, failed or was cancelled.
        for (item, labels) in byItem {
            #expect(labels.first == "started" && labels.count(where: { !$0.hasPrefix("retried") && $0 != "started" }) == 1, "item \(item): \(labels)")
        }
    }

    @Test func eachItemsOrderHoldsWithFourWorkers() async throws {
        let attempts = Attempts()
        let events = Recorder<StageEvent<Int>>()
        let p = Pipeline(0..<40) | op.map { (x: Int) async throws -> Int in
            if x % 2 == 1 && attempts.next(x) == 1 { throw Transient() }
            return x
        }.retry(.attempts(2)).workers(4).observe { events.record($0) }
        #expect(try await p.collect() == Array(0..<40))
        let byItem = Self.byItem(events.all)
        #expect(byItem.count == 40)
        for x in 0..<40 {
            let expected = x % 2 == 1 ? ["started", "retried(1)", "succeeded(2)"] : ["started", "succeeded(1)"]
            #expect(byItem[x] == expected, "item \(x)")
        }
    }

    @Test func anItemInterruptedByTheRunStoppingIsCancelled() async throws {
        let events = Recorder<StageEvent<Int>>()
        let started = Counter()
        let never = Gate()
        let p = Pipeline([0, 1]) | op.map { (x: Int) async throws -> Int in
            if x == 1 {
                started.increment()
                try await never.wait()
            }
            await started.wait(atLeast: 1)
            throw Permanent()
        }.workers(2).observe { events.record($0) }
        _ = try await withDeadline {
            await #expect(throws: StageFailure.self) { try await p.collect() }
        }
        #expect(Self.byItem(events.all) == [0: ["started", "failed(1)"], 1: ["started", "cancelled"]])
    }

    @Test func observersAreCalledInOrderAndMayBeAsync() async throws {
        actor Log {
            var lines: [String] = []
            func add(_ line: String) { lines.append(line) }
        }
        let log = Log()
        let flow = op.map { (x: Int) in x }
            .observe { await log.add("A \(label($0))") }
            .observe { await log.add("B \(label($0))") }
        _ = try await flow.run(1)
        #expect(await log.lines == ["A started", "B started", "A succeeded(1)", "B succeeded(1)"])
    }

    @Test func observersSeeTheStageAsAWholeWhereverTheyAreWritten() async throws {
        let attempts = Attempts()
        let events = Recorder<StageEvent<Int>>()
        // `observe` written before `retry` still sees one item, not one per attempt.
        let flow = op.map { (x: Int) throws -> Int in
            if attempts.next(x) == 1 { throw Transient() }
            return x
        }.observe { events.record($0) }.retry(.attempts(2))
        _ = try await flow.run(3)
        #expect(events.all.map(label) == ["started", "retried(1)", "succeeded(2)"])
    }

    @Test func failuresPassingOnTheRailwayAreNotEvents() async throws {
        let events = Recorder<StageEvent<Result<Int, StageFailure>>>()
        let p = Pipeline([1, 2]) | op.tryMap { (x: Int) throws -> Int in
            if x == 1 { throw Permanent() }
            return x
        } | op.thenMap { (x: Int) in x * 10 }.observe { events.record($0) }
        let results = try await p.collect()
        #expect(results.count == 2)
        #expect(events.all.count == 2)   // item 2 only: started, succeeded
        #expect(events.all.allSatisfy { (try? $0.item.get()) == 2 })
    }

    @Test func eventsDescribeThemselves() {
        let started = StageEvent(stage: "fetch", item: 42, kind: .started)
        #expect(started.description == "[fetch] 42 started")
        let retried = StageEvent(stage: "fetch", item: 42, kind: .retried(attempt: 1, delay: .seconds(1), error: TimeoutError(limit: .seconds(2))))
        #expect(retried.description == "[fetch] 42 attempt 1 failed: timed out after 2.0 seconds; retrying in 1.0 seconds")
    }
}
