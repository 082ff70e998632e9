// Synchronous stages fused in front of an asynchronous kernel: which plans fuse them, and that the
// fused segment keeps every promise of separate stages (outputs, a partial batch at the end, a
// stage that completes early, which failure wins, per-stage metrics).
import Testing
@testable import Sluice
import SluiceExecutor
import SluiceTestSupport

@Suite struct AsyncFusionTests {
    private struct Odd: Error {}

    private func segments(_ flow: Flow<Int, Int>) -> [[String]] {
        Plan(nodes: flow.nodes, synchronousSource: true).segments.map { $0.nodes.map(\.name) }
    }

    /// The synchronous stages right before an async `map` (with its kernel, on one worker) share
    /// its task, in both spellings; not before several workers, not after an explicit option, not
    /// before an async stage without a kernel.
    @Test func whichPlansFuse() {
        let double = op.map { (x: Int) in x * 2 }.named("double")
        let thirds = op.filter { (x: Int) in x % 3 == 0 }.named("thirds")
        let fetch: @Sendable (Int) async throws -> Int = { $0 }
        #expect(segments(double | thirds | op.map(fetch).named("fetch")) == [["double", "thirds", "fetch"]])
        #expect(segments(Flow<Int, Int> {
            Map { (x: Int) in x * 2 }.named("double")
            Filter { (x: Int) in x % 3 == 0 }.named("thirds")
            Map(fetch).named("fetch")
        }) == [["double", "thirds", "fetch"]])
        // Policies that keep the kernel.
        #expect(segments(double | op.map(fetch).retry(.attempts(2)).named("fetch")) == [["double", "fetch"]])
        #expect(segments(double | op.map(fetch).observe { _ in }.named("fetch")) == [["double", "fetch"]])
        #expect(segments(double | op.map(fetch).around { x, next in try await next(x) }.named("fetch")) == [["double", "fetch"]])
        // Not fused:
        #expect(segments(double | op.map(fetch).workers(2).named("fetch")) == [["double"], ["fetch"]])
        #expect(segments(double.buffer(8) | op.map(fetch).named("fetch")) == [["double"], ["fetch"]])
        #expect(segments(double | op.filter { (x: Int) async in x > 0 }.named("keep")) == [["double"], ["keep"]])
        #expect(segments(double | op.map(fetch).timeout(.seconds(1)).retry(.attempts(2)).named("fetch")) == [["double"], ["fetch"]])
    }

    @Test func outputsAreTheSame() async throws {
        let p = Pipeline(0..<1_000) | op.map { (x: Int) in x * 2 } | op.filter { $0 % 3 == 0 } | op.map { (x: Int) async in x + 1 }
        #expect(try await p.collect() == (0..<1_000).map { $0 * 2 }.filter { $0 % 3 == 0 }.map { $0 + 1 })
    }

    /// A fused `batch` flushes its partial batch at the end of the input, through the async stage.
    @Test func aPartialBatchGoesThroughTheAsyncStage() async throws {
        let sizes: Flow<Int, Int> = op.batch(3) | op.map { (xs: [Int]) async in xs.count }
        #expect(Plan(nodes: sizes.nodes, synchronousSource: true).segments.count == 1)
        #expect(try await (Pipeline(0..<10) | sizes).collect() == [3, 3, 3, 1])
    }

    /// A fused stage that needs no more input (`prefix`) ends the segment after the async stage
    /// handled what it let through.
    @Test func aStageThatCompletesEndsTheSegment() async throws {
        let calls = Counter()
        let flow: Flow<Int, Int> = op.prefix(5) | op.map { (x: Int) async in
            calls.increment()
            return x * 10
        }
        #expect(Plan(nodes: flow.nodes, synchronousSource: true).segments.count == 1)
        #expect(try await (Pipeline(0..<1_000) | flow).collect() == [0, 10, 20, 30, 40])
        #expect(calls.value == 5)
    }

    /// A chunk goes through the synchronous stage first: when it fails on an item, the async stage
    /// still handles the items before it, and a failure there (an earlier item) wins.
    @Test func theEarlierFailureWins() async throws {
        let check = op.map { (x: Int) throws -> Int in
            if x == 7 { throw Odd() }
            return x
        }.named("check")
        let fetch = op.map { (x: Int) async throws -> Int in
            if x == 3 { throw Odd() }
            return x
        }.named("fetch")
        #expect(segments(check | fetch) == [["check", "fetch"]])
        let failure = await #expect(throws: StageFailure.self) { try await (Pipeline(0..<20) | check | fetch).collect() }
        #expect(failure?.stage == "fetch" && failure?.item as? Int == 3)

        // The synchronous stage's failure, when it is the earlier one, after the items before it.
        let late = op.map { (x: Int) async throws -> Int in
            if x == 12 { throw Odd() }
            return x
        }.named("late")
        let seen = Lock<[Int]>([])
        let second = await #expect(throws: StageFailure.self) {
            try await (Pipeline(0..<20) | check | late).forEach { y in seen.withLock { $0.append(y) } }
        }
        #expect(second?.stage == "check" && second?.item as? Int == 7)
        #expect(seen.withLock { $0 } == Array(0..<7))
    }

    /// A measured run counts each fused stage on its own row, and marks them as sharing a task.
    @Test func metricsKeepEveryStage() async throws {
        let metrics = PipelineMetrics()
        let p = Pipeline(0..<100)
            | op.map { (x: Int) in x }.named("a")
            | op.filter { $0 % 2 == 0 }.named("b")
            | op.map { (x: Int) async in x + 1 }.named("c")
        #expect(try await p.metrics(metrics).count() == 50)
        let s = metrics.snapshot()
        #expect(s.stages.map(\.name) == ["a", "b", "c"])
        #expect(s.stages.map(\.inputs) == [100, 100, 50])
        #expect(s.stages.map(\.outputs) == [100, 50, 50])
        #expect(s.stages.map(\.sharesTaskWithPrevious) == [false, true, true])
    }
}
