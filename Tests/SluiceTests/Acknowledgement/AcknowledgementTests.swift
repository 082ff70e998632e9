// Acknowledged sources: every delivery is acknowledged exactly once, after everything derived
// from it has left the pipeline, and never when it did not complete.
import Testing
import Sluice
import SluiceExecutor
import SluiceTestSupport

@Suite("Acknowledged sources")
struct AcknowledgementTests {
    @Test("every delivery of a straight pipeline is acknowledged once, as completed, after it is consumed")
    func straight() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(200), acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) in recorder.touch(x); return x }.workers(3)
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<200))
        #expect(recorder.acks.allSatisfy { $0.outcome.isCompleted && $0.eventsSeen == 2 })
    }

    @Test("an item a filter drops is acknowledged while the run goes on (not held until the end)")
    func filteredIsPrompt() async throws {
        let recorder = AckRecorder()
        let (stream, input) = AsyncStream.makeStream(of: Delivery<Int, Origins>.self)
        let p = AcknowledgedPipeline(acknowledge: { recorder.record($0) }, deliveries: { stream })
            | op.filter { (x: Origins) in x.ids[0] != 0 }
        try await withDeadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await p.drain() }
                input.yield(Delivery(id: 0, element: Origins(ids: [0])))
                // Item 0 is dropped; its acknowledgement comes without any other item moving.
                await recorder.acknowledged.wait(atLeast: 1)
                #expect(recorder.acks.map(\.id) == [0])
                input.yield(Delivery(id: 1, element: Origins(ids: [1])))
                input.finish()
                try await group.waitForAll()
            }
        }
        #expect(recorder.acks.map(\.id) == [0, 1])
    }

    @Test("a flatMap's input completes only when all of its outputs are consumed")
    func flatMap() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(50), acknowledge: { recorder.record($0) })
            | op.flatMap { (x: Origins) in Array(repeating: x, count: x.ids[0] % 4) }.workers(2).unordered()
            | op.map { (x: Origins) async in await Task.yield(); recorder.touch(x); return x }.workers(4).unordered()
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<50))
        for ack in recorder.acks { #expect(ack.eventsSeen == 2 * (ack.id % 4)) }
    }

    @Test("a batch's items complete when the batch is consumed; the last partial batch too")
    func batch() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(23), acknowledge: { recorder.record($0) })
            | op.batch(5)
            | op.map { (xs: [Origins]) in Origins(ids: xs.flatMap(\.ids)) }
        try await p.forEach { recorder.touch($0) }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<23))
        #expect(recorder.acks.allSatisfy { $0.eventsSeen == 1 })
    }

    @Test("a railway failure consumed at the end acknowledges its delivery as failed, with the StageFailure")
    func railwayFailure() async throws {
        struct Rejected: Error {}
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(30), acknowledge: { recorder.record($0) })
            | op.tryMap { (x: Origins) throws -> Origins in
                if x.ids[0] % 7 == 3 { throw Rejected() }
                return x
            }.named("validate")
            | op.thenMap { (x: Origins) in x }
        try await p.forEach { result in
            if case .success(let x) = result { recorder.touch(x) }
        }
        #expect(recorder.violations() == [])
        #expect(recorder.acks.count == 30)
        for ack in recorder.acks {
            if ack.id % 7 == 3 {
                guard case .failed(let failure) = ack.outcome else {
                    Issue.record("item \(ack.id) should have failed")
                    continue
                }
                #expect(failure.stage == "validate")
                #expect(failure.underlying is Rejected)
            } else {
                #expect(ack.outcome.isCompleted)
            }
        }
    }

    @Test("fail-fast: the failing item and the items not consumed are never acknowledged")
    func failFast() async throws {
        struct Broken: Error {}
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(500), acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) throws -> Origins in
                recorder.touch(x)
                if x.ids[0] == 100 { throw Broken() }
                return x
            }
        let consumed = Lock<Set<Int>>([])
        await #expect(throws: StageFailure.self) {
            try await p.forEach { x in
                recorder.touch(x)
                consumed.withLock { _ = $0.insert(x.ids[0]) }
            }
        }
        #expect(recorder.violations() == [])
        let acked = Set(recorder.acks.map(\.id))
        #expect(!acked.contains(100))
        #expect(acked.isSubset(of: consumed.withLock { $0 }))
        #expect(acked == consumed.withLock { $0 })
    }

    @Test("collect acknowledges only when the run succeeds")
    func collectAcksOnSuccess() async throws {
        struct Broken: Error {}
        let recorder = AckRecorder()
        let failing = AcknowledgedPipeline(deliveries(100), acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) throws -> Origins in
                if x.ids[0] == 99 { throw Broken() }
                return x
            }
        await #expect(throws: StageFailure.self) { _ = try await failing.collect() }
        #expect(recorder.acks.isEmpty)
        let fine = AcknowledgedPipeline(deliveries(100), acknowledge: { recorder.record($0) }) | op.map { (x: Origins) in x }
        #expect(try await fine.collect().count == 100)
        #expect(recorder.acks.count == 100)
    }

    @Test("in an ordered pipeline completedThrough follows delivery order and reaches the last item")
    func completedThrough() async throws {
        let recorder = AckRecorder()
        let p = AcknowledgedPipeline(deliveries(300), maxBatch: 16, acknowledge: { recorder.record($0) })
            | op.map { (x: Origins) async in await Task.yield(); return x }.workers(4)
            | op.filter { (x: Origins) in x.ids[0] % 3 != 0 }
        try await p.drain()
        let batches = recorder.batches
        #expect(batches.allSatisfy { $0.acknowledgements.count <= 16 })
        var ackedSoFar: Set<Int> = []
        var last = -1
        for batch in batches {
            ackedSoFar.formUnion(batch.acknowledgements.map(\.id))
            if let through = batch.completedThrough {
                #expect(through > last)
                #expect(ackedSoFar.isSuperset(of: 0...through))
                last = through
            }
        }
        #expect(last == 299)
    }

    @Test("an error thrown by acknowledge fails the run with a StageFailure of the stage \"acknowledge\"")
    func acknowledgeFails() async throws {
        struct Down: Error {}
        let (stream, input) = AsyncStream.makeStream(of: Delivery<Int, Origins>.self)
        let p = AcknowledgedPipeline(acknowledge: { (_: AckBatch<Int>) in throw Down() }, deliveries: { stream })
            | op.map { (x: Origins) in x }
        input.yield(Delivery(id: 0, element: Origins(ids: [0])))
        // The stream never ends: only the failing acknowledgement ends the run.
        let failure = try await withDeadline {
            do {
                try await p.drain()
                return nil as StageFailure?
            } catch let failure as StageFailure {
                return failure
            }
        }
        #expect(failure?.stage == "acknowledge")
        #expect(failure?.underlying is Down)
        input.finish()
    }

    @Test("maxBatch below 1 is rejected with a message naming it")
    func maxBatchRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = AcknowledgedPipeline([Delivery(id: 1, element: 1)], maxBatch: 0, acknowledge: { (_: AckBatch<Int>) in })
        }
        #expect(resilienceStderr(result).contains("maxBatch must be ≥ 1, got 0"), "\(resilienceStderr(result))")
    }

    @Test("an expansion is rejected where the flow is applied, naming the stage")
    func shapeRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let walk = op.expand { (x: Int) in (x, x < 3 ? [x + 1] : []) }.named("walk")
            _ = AcknowledgedPipeline([Delivery(id: 1, element: 1)], acknowledge: { (_: AckBatch<Int>) in }) | walk
        }
        #expect(resilienceStderr(result).contains("stage 'walk': an acknowledged pipeline cannot contain expand"), "\(resilienceStderr(result))")
    }
}
