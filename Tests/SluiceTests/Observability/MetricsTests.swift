// Metrics: per-stage counts that match what passed, failures and retries, live snapshots,
// buffer high-water marks, and the progress callback in virtual time.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct ResilienceMetricsTests {
    @Test func countsMatchTheItemsThatPassed() async throws {
        let metrics = PipelineMetrics()
        let p = Pipeline(0..<1000)
            | op.map { $0 * 2 }.named("double")
            | op.filter { $0 % 3 == 0 }.named("thirds")
            | op.map { (x: Int) async in x + 1 }.workers(4).named("inc")
            | op.flatMap { (x: Int) in [x, x] }.named("twice")
        let out = try await p.metrics(metrics).collect()
        #expect(out.count == 668)
        let s = metrics.snapshot()
        #expect(s.isFinished)
        #expect(s.stages.map(\.name) == ["double", "thirds", "inc", "twice"])
        #expect(s.stages.map(\.inputs) == [1000, 1000, 334, 334])
        #expect(s.stages.map(\.outputs) == [1000, 334, 334, 668])
        #expect(s.stages.map(\.failures) == [0, 0, 0, 0])
        #expect(s.stages.map(\.workers) == [1, 1, 4, 1])
        // double and thirds are fused into one task: thirds has no buffer of its own.
        #expect(s.stages.map(\.sharesTaskWithPrevious) == [false, true, false, false])
        #expect(s.stages[0].buffer == nil && s.stages[1].buffer != nil)
        #expect(s["inc"]!.busy > .zero)
        #expect(s.elapsed > .zero)
    }

    /// The stages that launch their own workers (`partitioned`, `expand`) are counted too, and the
    /// stages after them keep their rows.
    @Test func shapesAreCounted() async throws {
        let metrics = PipelineMetrics()
        let p = Pipeline(0..<100)
            | op.map { (x: Int) async in x }.workers(4).partitioned(by: { $0 % 7 }).named("keyed")
            | op.expand(dedupe: .items) { (x: Int) in (x, x < 100 ? [x + 100] : []) }.workers(3).named("walk")
            | op.broadcast(op.map { $0 }, op.filter { $0 < 50 }).named("fan")
            | op.map { (x: Int) async in x }.named("last")
        #expect(try await p.metrics(metrics).count() == 250)
        let s = metrics.snapshot()
        #expect(s.stages.map(\.name) == ["keyed", "walk", "fan", "last"])
        #expect(s.stages.map(\.inputs) == [100, 200, 200, 250])
        #expect(s.stages.map(\.outputs) == [100, 200, 250, 250])
        #expect(s.stages.map(\.workers) == [4, 3, 1, 1])
        #expect(s["walk"]!.busy > .zero)
    }

    @Test func unmeasuredRunsAreUnaffectedAndMetricsStartEmpty() async throws {
        let metrics = PipelineMetrics()
        #expect(metrics.snapshot().stages.isEmpty && !metrics.snapshot().isFinished)
        let p = Pipeline(0..<10) | op.map { $0 + 1 }
        #expect(try await p.collect() == Array(1...10))
        #expect(metrics.snapshot().stages.isEmpty)
        #expect(try await p.metrics(metrics).collect() == Array(1...10))
        #expect(metrics.snapshot().stages.map(\.outputs) == [10])
    }

    @Test func retriesAndFailuresAreCounted() async throws {
        let attempts = Attempts()
        let metrics = PipelineMetrics()
        let p = Pipeline(0..<10) | op.map { (x: Int) async throws -> Int in
            if x % 2 == 1 && attempts.next(x) < 3 { throw Transient() }
            return x
        }.retry(.attempts(3)).workers(2).named("flaky")
        #expect(try await p.metrics(metrics).count() == 10)
        let flaky = metrics.snapshot()["flaky"]!
        #expect(flaky.retries == 10)     // five odd items, two retries each
        #expect(flaky.failures == 0)
        #expect(flaky.inputs == 10 && flaky.outputs == 10)
    }

    @Test func theFailureThatStoppedTheRunIsCountedWhereItHappened() async throws {
        let metrics = PipelineMetrics()
        let p = Pipeline(0..<10)
            | op.map { $0 }.named("first")
            | op.map { (x: Int) throws -> Int in
                if x == 5 { throw Permanent() }
                return x
            }.named("second")
        await #expect(throws: StageFailure.self) { try await p.metrics(metrics).collect() }
        let s = metrics.snapshot()
        #expect(s.isFinished)
        #expect(s["first"]!.failures == 0)
        #expect(s["second"]!.failures == 1)
        #expect(s["second"]!.inputs == 6 && s["second"]!.outputs == 5)
    }

    @Test func railwayFailuresAreCountedByTheStageThatProducedThem() async throws {
        let metrics = PipelineMetrics()
        let p = Pipeline(1...10)
            | op.tryMap { (x: Int) throws -> Int in
                if x % 2 == 0 { throw Permanent() }
                return x
            }.named("enter")
            | op.thenMap { (x: Int) throws -> Int in
                if x == 9 { throw Permanent() }
                return x
            }.named("stay")
        let results = try await p.metrics(metrics).collect()
        #expect(results.count == 10)
        let s = metrics.snapshot()
        #expect(s["enter"]!.failures == 5)
        #expect(s["stay"]!.failures == 1)     // the five passing failures are not its own
    }

    @Test func aLiveSnapshotShowsWorkInProgressAndTheHighWaterMarkStays() async throws {
        let metrics = PipelineMetrics()
        let gate = Gate(), stuck = Counter()
        let p = Pipeline(0..<100)
            | op.map { $0 }.buffer(4).named("produce")
            | op.forEach { (x: Int) async throws in
                if x == 50 { stuck.increment(); try await gate.wait() }
            }.named("consume")
        let result = Task { try await p.metrics(metrics).count() }
        try await withDeadline {
            await stuck.wait(atLeast: 1)
            // The producer fills its buffer while the consumer is stuck on item 50. (Not on item
            // 0: the buffer's slow start grows its room only as the consumer takes items.)
            while metrics.snapshot()["produce"]!.buffer!.current < 4 {
                try Task.checkCancellation()   // the deadline ends the test, not a hang
                await Task.yield()
            }
            let live = metrics.snapshot()
            #expect(!live.isFinished)
            #expect(live["consume"]!.inputs == 51 && live["consume"]!.outputs == 50)
            #expect(live["produce"]!.buffer == BufferMetrics(capacity: 4, current: 4, highWater: 4))
            gate.open()
            let count = try await result.value
            #expect(count == 100)
        }
        let done = metrics.snapshot()
        #expect(done.isFinished)
        #expect(done["produce"]!.buffer!.highWater == 4)
        #expect(done["consume"]!.inputs == 100 && done["consume"]!.outputs == 100)
    }

    @Test func progressIsReportedAtTheIntervalAndAtTheEnd() async throws {
        let clock = TestClock()
        let reports = Recorder<MetricsSnapshot>()
        let reported = Counter()
        let metrics = PipelineMetrics(progressEvery: .seconds(1), clock: clock) { snapshot in
            reports.record(snapshot)
            reported.increment()
        }
        let gate = Gate(), stuck = Counter()
        let p = Pipeline(0..<10) | op.forEach { (x: Int) async throws in
            if x == 3 { stuck.increment(); try await gate.wait() }
        }.named("work")
        let result = Task { try await p.metrics(metrics).count() }
        try await withDeadline {
            await stuck.wait(atLeast: 1)
            await clock.waitForSleepers(1)             // the ticker
            clock.advance(by: .seconds(1))
            await reported.wait(atLeast: 1)
            gate.open()
            let count = try await result.value
            #expect(count == 10)
        }
        let all = reports.all
        #expect(all.count == 2)
        #expect(!all[0].isFinished && all[0]["work"]!.outputs == 3)
        #expect(all[1].isFinished && all[1]["work"]!.outputs == 10)
        #expect(clock.sleepers == 0)                   // the ticker ended with the run
    }

    @Test func metricsWorkForAForAwaitLoop() async throws {
        let metrics = PipelineMetrics()
        var n = 0
        for try await _ in (Pipeline(0..<50) | op.filter { $0 % 5 == 0 }).metrics(metrics) { n += 1 }
        #expect(n == 10)
        #expect(metrics.snapshot().stages.map(\.outputs) == [10])
    }

    @Test func aNewRunStartsFromZero() async throws {
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<5) | op.map { $0 }).metrics(metrics)
        _ = try await p.collect()
        _ = try await p.collect()
        #expect(metrics.snapshot().stages.map(\.inputs) == [5])
    }

    @Test func theTextFormsNameEveryStage() async throws {
        let metrics = PipelineMetrics()
        _ = try await (Pipeline(0..<10) | op.map { (x: Int) async in x }.workers(2).named("fetch") | op.map { $0 }.named("parse"))
            .metrics(metrics).collect()
        let s = metrics.snapshot()
        #expect(s.progressLine.hasSuffix(" items/s"))
        #expect(s.progressLine.contains("fetch 10 → 10 | parse 10 → 10"))
        let lines = s.table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("stage"))
        #expect(lines[1].hasPrefix("fetch  map") && lines[2].hasPrefix("parse  map"))
        #expect(lines[3].hasSuffix("elapsed"))
    }
}
