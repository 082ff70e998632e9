// Tests of how a failure cuts a segment: which workers stop, which failure wins, who ends the
// output, and that a stopped worker never reads its source again.
import Testing
@testable import SluiceExecutor
import SluiceTestSupport

private struct Failed: Error, Equatable { let id: Int }

private final class HaltCount: Sendable {
    let halts = Counter()
    let cuts = Recorder<Int>()
}

private func control(workers: Int, sequenced: Bool, _ count: HaltCount) -> SegmentControl {
    SegmentControl(workers: workers, sequenced: sequenced,
                   haltUpstream: { count.halts.increment() }, onCut: { count.cuts.record($0) })
}

@Suite struct SegmentControlTests {
    @Test func anOrderedFailureStopsOnlyTheLaterChunks() {
        let count = HaltCount()
        let c = control(workers: 3, sequenced: true, count)
        let (a, b, failing) = (c.join(), c.join(), c.join())
        #expect(c.enter(a, chunk: 0) && c.enter(b, chunk: 8) && c.enter(failing, chunk: 4))
        #expect(c.fail(failing, Failed(id: 1), chunk: 4) == .deliverPrefix)
        #expect(!a.stop.isSet, "an earlier chunk finishes")
        #expect(b.stop.isSet, "a later chunk is abandoned")
        #expect(count.halts.value == 1 && count.cuts.all == [4])
        #expect(!c.enter(a, chunk: 12), "no chunk after the cut is taken")
        #expect(a.stop.isSet)
    }

    @Test func theEarliestFailureWinsAndUpstreamIsHaltedOnce() throws {
        let count = HaltCount()
        let c = control(workers: 3, sequenced: true, count)
        let (x, y, z) = (c.join(), c.join(), c.join())
        _ = (c.enter(x, chunk: 10), c.enter(y, chunk: 4), c.enter(z, chunk: 20))
        #expect(c.fail(x, Failed(id: 10), chunk: 10) == .deliverPrefix)
        #expect(c.fail(z, Failed(id: 20), chunk: 20) == .dropEverything)
        #expect(c.fail(y, Failed(id: 4), chunk: 4) == .deliverPrefix)
        #expect(x.stop.isSet, "the later failing chunk is abandoned in turn")
        #expect(count.halts.value == 1)
        #expect(count.cuts.all == [10, 4])
        #expect(c.leave() == nil && c.leave() == nil)
        let last = try #require(c.leave())
        #expect(last as? Failed == Failed(id: 4))
    }

    @Test func anUnorderedFailureStopsEveryOtherWorkerWhoKeepsWhatItCompleted() {
        let count = HaltCount()
        let c = control(workers: 2, sequenced: false, count)
        let (a, failing) = (c.join(), c.join())
        _ = (c.enter(a, chunk: 0), c.enter(failing, chunk: 1))
        #expect(c.fail(failing, Failed(id: 1), chunk: 1) == .deliverPrefix)
        #expect(a.stop.isSet && a.keepsCompleted.load(ordering: .relaxed))
        #expect(count.cuts.all.isEmpty, "no reorder window to cut")
    }

    @Test func anInputFailureIsPassedOnAfterEveryWorkerLeaves() throws {
        let count = HaltCount()
        let c = control(workers: 2, sequenced: true, count)
        c.inputFailed(Failed(id: 7))
        c.inputFailed(Failed(id: 8))
        #expect(count.halts.value == 0, "an input failure is not a cut")
        #expect(c.leave() == nil)
        #expect(try #require(c.leave()) as? Failed == Failed(id: 7))
    }

    @Test func aHaltedSegmentStopsWorkersThatJoinLater() {
        let c = control(workers: 2, sequenced: false, HaltCount())
        let early = c.join()
        c.halt()
        #expect(early.stop.isSet)
        #expect(c.join().stop.isSet)
    }

    @Test func aStoppedWorkerNeverReadsItsSourceAgain() async throws {
        let reads = Counter()
        let source = ReadCountingSource(reads: reads)
        let stop = StopSignal()
        let reader = try await SegmentWorker<Int, Int>.Reader(.source(source), stop: stop)
        var buffer: [Int] = []
        #expect(try reader.tryRead(into: &buffer, limit: 4) == .items(first: 0, count: 4))
        stop.set()
        #expect(throws: CancellationError.self) { try reader.tryRead(into: &buffer, limit: 4) }
        #expect(reads.value == 1)
    }

    @Test func aSourceFailureAfterSomeItemsKeepsThem() async throws {
        let reader = try await SegmentWorker<Int, Int>.Reader(.source(FailingAfterSource()), stop: StopSignal())
        var buffer: [Int] = []
        #expect(try reader.tryRead(into: &buffer, limit: 10) == .items(first: 0, count: 3))
        #expect(buffer == [0, 1, 2])
        #expect(throws: StageFailure.self) { try reader.tryRead(into: &buffer, limit: 10) }
    }
}

private struct ReadCountingSource: SourceBody {
    let reads: Counter
    var isSynchronous: Bool { true }
    func open(stop: StopSignal) async throws -> SourceCursor<Int> {
        let reads = self.reads
        var next = 0
        return .sync { buffer, limit in
            reads.increment()
            for _ in 0..<limit { buffer.append(next); next += 1 }
            return true
        }
    }
}

private struct FailingAfterSource: SourceBody {
    struct SourceBroke: Error {}
    var isSynchronous: Bool { true }
    func open(stop: StopSignal) async throws -> SourceCursor<Int> {
        .sync { buffer, _ in
            buffer.append(contentsOf: [0, 1, 2])
            throw SourceBroke()
        }
    }
}
