// Acknowledged pipelines through the stages that need care: retries, prefix, debounce, buffers
// that drop, groups, and measured runs.
import Testing
import Sluice
import SluiceExecutor
import SluiceTestSupport

@Suite("Acknowledged pipelines through every kind of stage")
struct AckStagesTests {
    @Test("a retried stage acknowledges each delivery once, after the attempt that succeeded")
    func retried() async throws {
        struct Flaky: Error {}
        let recorder = AckRecorder()
        let attempts = Lock<[Int: Int]>([:])
        let p = AcknowledgedPipeline(deliveries(40), acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) throws -> Origins in
                let n = attempts.withLock { a -> Int in
                    a[x.ids[0], default: 0] += 1
                    return a[x.ids[0]]!
                }
                recorder.touch(x)
                if x.ids[0] % 3 == 0 && n == 1 { throw Flaky() }
                return x
            }.retry(.attempts(2)).workers(2)
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<40))
        #expect(recorder.acks.allSatisfy { $0.outcome.isCompleted })
    }

    @Test("prefix: the items it passed are acknowledged; what it never took is not")
    func prefix() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(1000), acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) in x }
            | op.prefix(5)
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == [0, 1, 2, 3, 4])
    }

    @Test("debounce: the items it passed over complete with the item that replaced them")
    func debounce() async throws {
        let recorder = AckRecorder()
        let clock = TestClock()
        let p = AcknowledgedPipeline(deliveries(10), acknowledge: { recorder.record($0) })
            | op.debounce(for: .seconds(1), clock: clock)
        let out = try await p.collect()
        // The input ends before any time passes: only the last item comes out.
        #expect(out == [Origins(ids: [9])])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<10))
    }

    @Test("a buffer that drops: dropped items are complete, the others when consumed")
    func dropBuffer() async throws {
        let recorder = AckRecorder()
        let gate = Gate()
        let dropped = Counter()
        let p = AcknowledgedPipeline(deliveries(50), acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) in x }.buffer(2, whenFull: .dropOldest, onDrop: { _ in dropped.increment() })
            | op.map { (x: Origins) async throws -> Origins in
                try await gate.wait()
                recorder.touch(x)
                return x
            }
        let consumed = Counter()
        try await withDeadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await p.forEach { recorder.touch($0); consumed.increment() } }
                // Everything not held downstream is dropped before the gate opens.
                await dropped.wait(atLeast: 40)
                gate.open()
                try await group.waitForAll()
            }
        }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<50))
        #expect(dropped.value + consumed.value == 50)
    }

    @Test("a group made by a modifier (batch inside) is tracked stage by stage")
    func group() async throws {
        let recorder = AckRecorder()
        let inner = op.filter { (x: Origins) in x.ids[0] % 2 == 0 } | op.map { (x: Origins) async in x }
        let p = AcknowledgedPipeline(deliveries(60), acknowledge: { recorder.record($0) })
            | inner.workers(3).unordered()
            | (op.batch(4) | op.map { (xs: [Origins]) in Origins(ids: xs.flatMap(\.ids)) }).named("pack")
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<60))
        #expect(recorder.acks.allSatisfy { ($0.id % 2 == 0) == ($0.eventsSeen == 1) })
    }

    @Test("a measured acknowledged run reports its stages")
    func metrics() async throws {
        let metrics = PipelineMetrics()
        let p = (AcknowledgedPipeline(deliveries(100), acknowledge: { (_: AckBatch<Int>) in })
            | op.filter { (x: Origins) in x.ids[0] < 30 }.named("keep")
            | op.map { (x: Origins) async in x }.named("work").workers(2))
            .metrics(metrics)
        try await p.drain()
        let snapshot = metrics.snapshot()
        #expect(snapshot["keep"]?.inputs == 100)
        #expect(snapshot["keep"]?.outputs == 30)
        #expect(snapshot["work"]?.outputs == 30)
    }
}

@Suite("Acknowledged pipelines through broadcast and route")
struct AckBranchesTests {
    @Test("broadcast (synchronous branches): a delivery completes when every branch's outputs are consumed", arguments: [false, true])
    func broadcast(asyncBranch: Bool) async throws {
        let recorder = AckRecorder()
        let second = asyncBranch
            ? op.map { (x: Origins) async in await Task.yield(); recorder.touch(x); return x }
            : op.map { (x: Origins) in recorder.touch(x); return x }
        let copies = op.broadcast(
            op.filter { (x: Origins) in recorder.touch(x); return x.ids[0] % 3 != 0 },
            second,
            op.flatMap { (x: Origins) in recorder.touch(x); return [x, x] })
        let p = AcknowledgedPipeline(deliveries(60), acknowledge: { recorder.record($0) }) | copies.workers(2)
        let consumed = Counter()
        try await p.forEach { recorder.touch($0); consumed.increment() }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<60))
        #expect(consumed.value == 40 + 60 + 120)
        // filter 1 + (1 if it passed) + map 1 + consumed 1 + flatMap 1 + consumed 2
        for ack in recorder.acks { #expect(ack.eventsSeen == (ack.id % 3 != 0 ? 7 : 6)) }
    }

    @Test("route: each delivery completes through the one branch it took")
    func route() async throws {
        let recorder = AckRecorder()
        let routed = op.route(by: { (x: Origins) in x.ids[0] % 3 }, [
            0: op.filter { (x: Origins) in recorder.touch(x); return false },
            1: op.map { (x: Origins) async in recorder.touch(x); return x },
        ], default: op.flatMap { (x: Origins) in recorder.touch(x); return [x, x, x] })
        let p = AcknowledgedPipeline(deliveries(45), acknowledge: { recorder.record($0) }) | routed.workers(3)
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<45))
        for ack in recorder.acks { #expect(ack.eventsSeen == [1, 2, 4][ack.id % 3]) }
    }
}

@Suite("Acknowledged pipelines through per-key stages")
struct AckPartitionedTests {
    @Test("partitioned: every delivery completes once, through any key's worker")
    func partitioned() async throws {
        let recorder = AckRecorder()
        let perKey = op.flatMap { (x: Origins) async -> [Origins] in
            await Task.yield()
            recorder.touch(x)
            return x.ids[0] % 4 == 0 ? [] : [x]
        }.workers(3).partitioned(by: { $0.ids[0] % 5 })
        let p = AcknowledgedPipeline(deliveries(80), acknowledge: { recorder.record($0) }) | perKey
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<80))
        for ack in recorder.acks { #expect(ack.eventsSeen == (ack.id % 4 == 0 ? 1 : 2)) }
    }
}

@Suite("Railway failures that do not reach the terminal as themselves")
struct AckRailwayDropTests {
    struct Rejected: Error {}

    static func validate(_ x: Origins) throws -> Origins {
        if x.ids[0] % 4 == 1 { throw Rejected() }
        return x
    }

    static func expectFailedExactly(_ recorder: AckRecorder, count: Int) {
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<count))
        for ack in recorder.acks {
            switch ack.outcome {
            case .completed: #expect(ack.id % 4 != 1, "item \(ack.id) failed validation but was acknowledged as completed")
            case .failed(let failure):
                #expect(ack.id % 4 == 1)
                #expect(failure.stage == "validate")
            }
        }
    }

    @Test("successes() drops the failure values: their deliveries are failed, not completed")
    func successesDropsFailures() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(40), acknowledge: { recorder.record($0) })
            | op.tryMap(Self.validate).named("validate")
            | op.successes()
        try await p.drain()
        Self.expectFailedExactly(recorder, count: 40)
    }

    @Test("a batch (counted or timed) of railway values: the failures' deliveries are failed", arguments: [false, true])
    func batchOfResults(timed: Bool) async throws {
        let recorder = AckRecorder()
        let validated = AcknowledgedPipeline(deliveries(30), acknowledge: { recorder.record($0) })
            | op.tryMap(Self.validate).named("validate")
        let batched = timed ? validated | op.batch(7, within: .seconds(3600)) : validated | op.batch(7)
        let batches = try await batched.collect()
        #expect(batches.map(\.count).reduce(0, +) == 30)
        Self.expectFailedExactly(recorder, count: 30)
    }

    @Test("a failure that recover turns into a value completes")
    func recovered() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(20), acknowledge: { recorder.record($0) })
            | op.tryMap(Self.validate).named("validate")
            | op.recover { _ in Origins(ids: []) }
        try await p.drain()
        #expect(recorder.acks.count == 20)
        #expect(recorder.acks.allSatisfy { $0.outcome.isCompleted })
    }
}
