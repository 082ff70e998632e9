// The timed stream operators — `batch(n, within:)`, the weighted batch, `debounce` — and the
// buffer that drops: their kernels against reference implementations in virtual time (sparse and
// dense arrivals), and whole pipelines on the test clock (no real sleeps).
import Sluice
@testable import SluiceExecutor
import SluiceTestSupport
import Testing

private struct WeightError: Error, Equatable {}

/// Feeds a timed kernel items at given virtual times, firing its deadlines in between as the worker
/// does; returns each output with the time it was emitted.
private func simulate<A, B>(_ kernel: TimedKernel<A, B>, _ arrivals: [(A, Duration)]) throws -> [(B, Duration)] {
    var out: [(B, Duration)] = []
    var buffer: [B] = []
    func flush(_ t: Duration) {
        out += buffer.map { ($0, t) }
        buffer.removeAll()
    }
    for (x, t) in arrivals {
        while let d = kernel.deadline(), d <= t {
            try kernel.fire(d, &buffer)
            flush(d)
        }
        try kernel.receive(x, t, &buffer)
        flush(t)
    }
    while let d = kernel.deadline() {
        try kernel.fire(d, &buffer)
        flush(d)
    }
    try kernel.finish(&buffer)
    flush(arrivals.last?.1 ?? .zero)
    return out
}

/// The reference: arrays of at most `size`, each closed `within` after its first item.
private func batchReference(_ arrivals: [(Int, Duration)], size: Int, within: Duration) -> [[Int]] {
    var out: [[Int]] = [], pending: [Int] = [], started = Duration.zero
    for (x, t) in arrivals {
        if !pending.isEmpty && t >= started + within {
            out.append(pending)
            pending = []
        }
        if pending.isEmpty { started = t }
        pending.append(x)
        if pending.count == size {
            out.append(pending)
            pending = []
        }
    }
    if !pending.isEmpty { out.append(pending) }
    return out
}

/// Arrivals with gaps drawn from `gaps` (milliseconds), seeded.
private func arrivals(_ n: Int, gaps: [Int], seed: UInt64) -> [(Int, Duration)] {
    var random = TestRandom(seed: seed)
    var t = Duration.zero
    return (0..<n).map { i in
        t += .milliseconds(gaps[random.next(upTo: gaps.count)])
        return (i, t)
    }
}

@Suite struct TimedOperatorsTests {
    // MARK: kernels in virtual time

    @Test(arguments: [[0], [0, 0, 1, 700], [300, 1_500], [0, 0, 0, 2_000, 999, 1_000]])
    func batchWithinMatchesItsReference(gaps: [Int]) throws {
        for seed in UInt64(1)...5 {
            let input = arrivals(500, gaps: gaps, seed: seed)
            let body = BatchWithinBody<Int, TestClock>(limit: .count(7), within: .seconds(1), clock: TestClock(), weight: nil)
            let out = try simulate(body.makeTimedKernel(context: StageContext(name: "batch")), input)
            #expect(out.map(\.0) == batchReference(input, size: 7, within: .seconds(1)))
            #expect(out.allSatisfy { !$0.0.isEmpty })
            #expect(out.flatMap(\.0) == input.map(\.0))
        }
    }

    @Test func aBatchClosedByTimeLeavesAtItsDeadlineNotAtTheNextItem() throws {
        let body = BatchWithinBody<Int, TestClock>(limit: .count(10), within: .seconds(1), clock: TestClock(), weight: nil)
        let out = try simulate(body.makeTimedKernel(context: StageContext(name: "batch")),
                               [(1, .zero), (2, .milliseconds(500)), (3, .seconds(5))])
        #expect(out.map(\.0) == [[1, 2], [3]])
        #expect(out[0].1 == .seconds(1))
    }

    @Test func theWeightedBatchNeverExceedsItsWeightUnlessOneItemDoes() throws {
        let weights = [3, 4, 1, 9, 12, 2, 2, 2, 2, 0, 5]
        let body = BatchWithinBody<Int, TestClock>(limit: .weight(8), within: nil, clock: TestClock(), weight: { $0 })
        let out = try simulate(body.makeTimedKernel(context: StageContext(name: "batch")), weights.map { ($0, .zero) })
        #expect(out.map(\.0) == [[3, 4, 1], [9], [12], [2, 2, 2, 2], [0, 5]])
    }

    @Test func aNegativeWeightCountsAsZeroAndTheWeightedBatchClosesByTimeToo() throws {
        let body = BatchWithinBody<Int, TestClock>(limit: .weight(6), within: .seconds(1), clock: TestClock(), weight: { $0 })
        let out = try simulate(body.makeTimedKernel(context: StageContext(name: "batch")),
                               [(-5, .zero), (3, .zero), (3, .zero), (1, .seconds(1)), (2, .seconds(3))])
        #expect(out.map(\.0) == [[-5, 3, 3], [1], [2]])
        #expect(out[1].1 == .seconds(2))   // closed a second after its first item
    }

    @Test func debounceEmitsTheLastItemOfEachBurst() throws {
        let body = DebounceBody<Int, TestClock>(interval: .milliseconds(300), clock: TestClock())
        let times = [0, 100, 200, 600, 1_000, 1_250, 1_400, 5_000].map { Duration.milliseconds($0) }
        let out = try simulate(body.makeTimedKernel(context: StageContext(name: "debounce")), Array(zip(0..., times)))
        #expect(out.map(\.0) == [2, 3, 6, 7])
        #expect(out.map(\.1) == [.milliseconds(500), .milliseconds(900), .milliseconds(1_700), .milliseconds(5_300)])
    }

    // MARK: pipelines

    @Test func bothFrontEndsBuildTheSameTimedStages() {
        let clock = TestClock()
        let a: Flow<Int, [Int]> = op.batch(10, within: .seconds(1), clock: clock)
        let b = Flow<Int, [Int]> { Batch(10, within: .seconds(1), clock: clock) }
        #expect(a.stages == b.stages)
        #expect(a.stages.map(\.kind) == ["batch"])
        let c: Flow<Int, [Int]> = op.batch(maxWeight: 5) { (x: Int) in x }
        let d = Flow<Int, [Int]> { Batch(maxWeight: 5) { $0 } }
        #expect(c.stages == d.stages)
        let e: Flow<Int, Int> = op.debounce(for: .seconds(1), clock: clock)
        let f = Flow<Int, Int> { Debounce<Int>(for: .seconds(1), clock: clock) }
        #expect(e.stages == f.stages && e.stages.map(\.kind) == ["debounce"])
        let g: Flow<Int, Int> = op.map { $0 }.buffer(4, whenFull: .dropOldest)
        let h = Flow<Int, Int> { Map { $0 }.buffer(4, whenFull: .dropOldest) }
        #expect(g.stages == h.stages && g.stages.map(\.kind) == ["map", "buffer"])
    }

    @Test func descriptionsTellTimedAndWeightedStagesApart() {
        let plain: Flow<Int, [Int]> = op.batch(4)
        let timed: Flow<Int, [Int]> = op.batch(4, within: .seconds(2))
        let weighed: Flow<Int, [Int]> = op.batch(maxWeight: 4) { $0 }
        let weighedTimed: Flow<Int, [Int]> = op.batch(maxWeight: 4, within: .milliseconds(1500)) { $0 }
        #expect(plain.stages != timed.stages && timed.stages != weighed.stages && weighed.stages != weighedTimed.stages)
        #expect(plain.stages.map(\.description) == ["batch(4)"])
        #expect(timed.stages.map(\.description) == ["batch(4, within: 2s)"])
        #expect(weighed.stages.map(\.description) == ["batch(maxWeight: 4)"])
        #expect(weighedTimed.stages.map(\.description) == ["batch(maxWeight: 4, within: 1.5s)"])
        #expect((op.batch(4, within: .milliseconds(300)) as Flow<Int, [Int]>).stages != (op.batch(4, within: .seconds(3)) as Flow<Int, [Int]>).stages)
        #expect((op.debounce(for: .milliseconds(300)) as Flow<Int, Int>).stages.map(\.description) == ["debounce(for: 300ms)"])
        let dropping: Flow<Int, Int> = op.map { $0 }.buffer(64, whenFull: .dropOldest)
        #expect(dropping.stages.map(\.description) == ["map", "buffer(64, whenFull: dropOldest)"])
        #expect(dropping.stages != (op.map { $0 }.buffer(64, whenFull: .dropNewest) as Flow<Int, Int>).stages)
        let named: Flow<Int, [Int]> = op.batch(4, within: .seconds(2)).named("rows")
        #expect(named.stages.map(\.description) == ["rows: batch(4, within: 2s)"])
        // Both front ends describe them the same way.
        #expect(Flow<Int, [Int]> { Batch(4, within: .seconds(2)) }.stages == timed.stages)
        #expect(Flow<Int, [Int]> { Batch(4) }.stages == plain.stages)
        #expect(Flow<Int, [Int]> { Batch(maxWeight: 4, within: .milliseconds(1500)) { $0 } }.stages == weighedTimed.stages)
    }

    @Test func denseArrivalsMakeFullBatchesAndTheRestIsFlushedAtTheEnd() async throws {
        let clock = TestClock()
        let p = Pipeline(0..<1_003) | op.map { $0 * 2 } | op.batch(10, within: .seconds(1), clock: clock) | op.map { $0.count }
        let sizes = try await withDeadline { try await p.collect() }
        #expect(sizes == Array(repeating: 10, count: 100) + [3])
        let builder = Pipeline(0..<25) | Flow<Int, [Int]> { Batch(10, within: .seconds(1), clock: clock) }
        #expect(try await builder.collect() == [Array(0..<10), Array(10..<20), Array(20..<25)])
    }

    @Test func sparseArrivalsAreEmittedWhenTheirTimeIsUp() async throws {
        let clock = TestClock()
        let (stream, input) = AsyncStream.makeStream(of: Int.self)
        let p = Pipeline(stream) | op.batch(3, within: .seconds(1), clock: clock)
        let batches = try await withDeadline {
            try await p.open { outputs in
                var it = outputs.makeAsyncIterator()
                var seen: [[Int]] = []
                input.yield(1)
                await clock.waitForSleepers(1)      // item 1 is in a batch waiting for its time
                clock.advance(by: .seconds(1))
                seen.append(try await it.next()!)
                input.yield(2)
                await clock.waitForSleepers(1)
                clock.advance(by: .milliseconds(999))
                input.yield(3)
                input.yield(4)                      // the size closes [2, 3, 4] whatever the time
                seen.append(try await it.next()!)
                input.yield(5)
                input.finish()                      // the end flushes [5]
                while let b = try await it.next() { seen.append(b) }
                return seen
            }
        }
        #expect(batches == [[1], [2, 3, 4], [5]])
    }

    @Test func aFailedInputDoesNotFlushThePartialBatch() async throws {
        let clock = TestClock()
        let p = Pipeline(0..<25) | op.map { (x: Int) throws -> Int in
            if x == 23 { throw WeightError() }
            return x
        } | op.batch(10, within: .seconds(1), clock: clock)
        let (items, error) = await readUntilFailure(p)
        #expect(items == [Array(0..<10), Array(10..<20)])
        #expect((error as? StageFailure)?.item as? Int == 23)
    }

    @Test func aThrowingWeightFailsTheRunAfterTheBatchesBeforeIt() async throws {
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<30) | op.batch(maxWeight: 10) { (x: Int) throws -> Int in
            if x == 25 { throw WeightError() }
            return 1
        }.named("bytes")).metrics(metrics)
        let (items, error) = await readUntilFailure(p)
        #expect(metrics.snapshot()["bytes"]?.failures == 1)
        #expect(items == [Array(0..<10), Array(10..<20)])
        let failure = error as? StageFailure
        #expect(failure?.stage == "bytes")
        #expect(failure?.item as? Int == 25)
        #expect(failure?.underlying is WeightError)
    }

    @Test func debounceDoesNotEmitItsPendingItemWhenTheInputFails() async throws {
        let p = Pipeline(0..<5) | op.map { (x: Int) throws -> Int in
            if x == 4 { throw WeightError() }
            return x
        } | op.debounce(for: .seconds(1), clock: TestClock())
        let (items, error) = await readUntilFailure(p)
        #expect(items.isEmpty)
        #expect((error as? StageFailure)?.item as? Int == 4)
    }

    @Test func aMeasuredTimedStageCountsItsItems() async throws {
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<25) | op.batch(10, within: .seconds(1), clock: TestClock()).named("rows")).metrics(metrics)
        #expect(try await p.collect().map(\.count) == [10, 10, 5])
        let rows = try #require(metrics.snapshot()["rows"])
        #expect(rows.inputs == 25 && rows.outputs == 3 && rows.dropped == 0)
    }

    @Test func debounceInAPipelineKeepsTheLastItemOfABurstAndFlushesAtTheEnd() async throws {
        let clock = TestClock()
        let (stream, input) = AsyncStream.makeStream(of: Int.self)
        let p = Pipeline(stream) | op.debounce(for: .seconds(1), clock: clock)
        let out = try await withDeadline {
            try await p.open { outputs in
                var it = outputs.makeAsyncIterator()
                var seen: [Int] = []
                input.yield(1)
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(1))
                seen.append(try await it.next()!)
                input.yield(2)
                input.yield(3)
                input.finish()
                while let x = try await it.next() { seen.append(x) }
                return seen
            }
        }
        #expect(out == [1, 3])
    }

    @Test func aTimedStageStopsWithTheRun() async throws {
        let clock = TestClock()
        let (stream, input) = AsyncStream.makeStream(of: Int.self)   // never finished
        let p = Pipeline(stream) | op.batch(Int.max, within: .seconds(60), clock: clock) | op.prefix(1)
        let first = try await withDeadline {
            try await p.open { outputs in
                var it = outputs.makeAsyncIterator()
                input.yield(7)
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(60))
                return try await it.next()
            }
        }
        #expect(first == [7])
        #expect(clock.sleepers == 0)   // the timer ended with the run
    }

    @Test func aTimedStagesBusyTimeIsMeasured() async throws {
        let metrics = PipelineMetrics()
        // Each item's weight takes at least 1 ms of work inside the timed batch's kernel.
        let p = (Pipeline(0..<20) | op.batch(maxWeight: 5, within: .seconds(60)) { (x: Int) -> Int in
            let start = ContinuousClock.now
            while start.duration(to: .now) < .milliseconds(1) {}
            return 1
        }).metrics(metrics)
        let batches = try await withDeadline { try await p.collect() }
        #expect(batches.count == 4)
        let batch = try #require(metrics.snapshot()["batch"])
        #expect(batch.busy >= .milliseconds(20), "busy \(batch.busy)")
        #expect(batch.busy <= metrics.snapshot().elapsed)
    }

    // MARK: drop policies

    @Test(arguments: [FullBufferPolicy.dropOldest, .dropNewest])
    func aFullBufferDropsAndCountsExactlyWhatItDrops(policy: FullBufferPolicy) async throws {
        let gate = Gate()
        let dropped = Recorder<Int>()
        let metrics = PipelineMetrics()
        // The last stage blocks on item 0 until the buffer has dropped 94 items: at most 2 items
        // are past the buffer (one in the last stage, one handed over), and it holds 4.
        let p = (Pipeline(0..<100) | op.map { (x: Int) in x }
            .buffer(4, whenFull: policy, onDrop: { dropped.record($0) })
            | op.map { (x: Int) async throws -> Int in
                if x == 0 { try await gate.wait() }
                return x
            }).metrics(metrics)
        let out = try await withDeadline {
            try await p.open { outputs in
                var it = outputs.makeAsyncIterator()
                var seen: [Int] = []
                while dropped.all.count < 94 { await Task.yield() }
                gate.open()
                while let x = try await it.next() { seen.append(x) }
                return seen
            }
        }
        #expect(out.count <= 6)
        #expect(out == out.sorted())
        #expect(Set(out).isDisjoint(with: dropped.all))
        #expect(Set(out).union(dropped.all) == Set(0..<100))
        let buffer = try #require(metrics.snapshot()["buffer"])
        #expect(buffer.dropped == 100 - out.count)
        #expect(buffer.inputs == 100 && buffer.outputs == out.count)   // a dropped item did enter the stage
        if policy == .dropOldest { #expect(Array(out.suffix(4)) == [96, 97, 98, 99]) }
        if policy == .dropNewest { #expect(Array(out.prefix(4)) == [0, 1, 2, 3]) }
    }
}
