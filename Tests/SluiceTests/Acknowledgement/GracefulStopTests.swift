// A graceful stop: the source is not read again, items already read finish (and are
// acknowledged), the terminal returns normally; with a deadline, the run is cancelled after it.
import Testing
import Sluice
import SluiceExecutor
import SluiceTestSupport

/// An endless async sequence that counts its reads and hands out 0, 1, 2, … as fast as asked.
struct EndlessCounting: AsyncSequence, Sendable {
    let pulled: Counter
    struct AsyncIterator: AsyncIteratorProtocol {
        var next = 0
        let pulled: Counter
        mutating func next() async throws -> Delivery<Int, Origins>? {
            try Task.checkCancellation()
            defer { next += 1 }
            pulled.increment()
            return Delivery(id: next, element: Origins(ids: [next]))
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pulled: pulled) }
}

@Suite("Graceful stop")
struct GracefulStopTests {
    @Test("a stop with a stalled stage: the source stops, the items already read finish and are acknowledged, the run returns normally")
    func stalledStageFinishes() async throws {
        let recorder = AckRecorder()
        let pulled = Counter(), entered = Counter()
        let gate = Gate()
        let stop = GracefulStop()
        let p = (AcknowledgedPipeline(acknowledge: { recorder.record($0) }, deliveries: { EndlessCounting(pulled: pulled) })
            | op.map { (x: Origins) async throws -> Origins in
                entered.increment()
                try await gate.wait()
                recorder.touch(x)
                return x
            }.workers(2))
            .withGracefulStop(stop)
        let consumed = Counter()
        try await withDeadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await p.forEach { x in
                        recorder.touch(x)
                        consumed.increment()
                    }
                }
                await entered.wait(atLeast: 2)   // both workers hold an item at the gate
                stop.request()
                // Reads stop: whatever was read before the request is all there will be.
                try await group.waitForAllAfter(opening: gate)
            }
        }
        let read = pulled.value
        #expect(read >= 2)
        #expect(consumed.value == read)
        #expect(recorder.violations() == [])
        #expect(recorder.acks.map(\.id).sorted() == Array(0..<read))
        #expect(stop.isRequested)
    }

    @Test("the source waiting for its next item is interrupted by the stop; the run ends normally")
    func waitingSourceInterrupted() async throws {
        let recorder = AckRecorder()
        let (stream, input) = AsyncStream.makeStream(of: Delivery<Int, Origins>.self)
        let stop = GracefulStop()
        let p = (AcknowledgedPipeline(acknowledge: { recorder.record($0) }, deliveries: { stream })
            | op.map { (x: Origins) in x })
            .withGracefulStop(stop)
        let consumed = Counter()
        try await withDeadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await p.forEach { _ in consumed.increment() } }
                for i in 0..<3 { input.yield(Delivery(id: i, element: Origins(ids: [i]))) }
                await consumed.wait(atLeast: 3)
                stop.request(deadline: .seconds(3600))
                try await group.waitForAll()
            }
        }
        #expect(recorder.acks.map(\.id).sorted() == [0, 1, 2])
        input.finish()
    }

    @Test("past its deadline a stop cancels the run: PipelineTimeout with the limit .gracefulStop")
    func deadline() async throws {
        let clock = TestClock()
        let stop = GracefulStop(clock: clock)
        let entered = Counter()
        let recorder = AckRecorder()
        let p = (AcknowledgedPipeline(acknowledge: { recorder.record($0) }, deliveries: { EndlessCounting(pulled: Counter()) })
            | op.map { (x: Origins) async throws -> Origins in
                entered.increment()
                try await Gate().wait()   // never opens: only cancellation ends it
                return x
            })
            .withGracefulStop(stop)
        let thrown = try await withDeadline {
            try await withThrowingTaskGroup(of: (any Error)?.self) { group in
                group.addTask {
                    do { try await p.drain(); return nil } catch { return error }
                }
                await entered.wait(atLeast: 1)
                stop.request(deadline: .seconds(30))
                await clock.waitForSleepers(1)
                #expect(clock.sleeps.last == .seconds(30))
                clock.advance(by: .seconds(30))
                return try await group.next()!
            }
        }
        let timeout = try #require(thrown as? PipelineTimeout)
        #expect(timeout.limit == .gracefulStop)
        #expect(timeout.duration == .seconds(30))
        #expect(recorder.acks.isEmpty)
    }

    @Test("a plain pipeline over a sequence stops reading at the request and returns what it read")
    func plainPipeline() async throws {
        let pulled = Counter()
        let stop = GracefulStop()
        let p = (Pipeline(CountingSequence(count: nil, pulled: pulled)) | op.map { $0 * 2 }).withGracefulStop(stop)
        var seen = 0
        try await p.forEach { _ in
            seen += 1
            if seen == 10 { stop.request() }
        }
        #expect(seen >= 10)
        #expect(seen == pulled.value)
    }

    @Test("a run started after the request reads nothing")
    func requestedBefore() async throws {
        let stop = GracefulStop()
        stop.request()
        let out = try await (Pipeline(0..<100) | op.map { $0 }).withGracefulStop(stop).collect()
        #expect(out == [])
    }

    @Test("a deadline of zero is rejected with a message naming it")
    func zeroDeadline() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            GracefulStop().request(deadline: .zero)
        }
        #expect(resilienceStderr(result).contains("deadline must be > 0"), "\(resilienceStderr(result))")
    }
}

extension ThrowingTaskGroup where ChildTaskResult == Void {
    /// Opens `gate`, then waits for every child.
    mutating func waitForAllAfter(opening gate: Gate) async throws {
        gate.open()
        try await waitForAll()
    }
}

@Suite("Run limits and graceful stop on fan-in sources")
struct FanInLimitsTests {
    @Test("timeout and idleTimeout on a merged pipeline run it (they once crashed: the fan-in source lost its driving form)")
    func limitsOnMerge() async throws {
        let merged = Pipeline.merge(Pipeline(0..<5), Pipeline(5..<10))
        #expect(try await merged.idleTimeout(.seconds(3600)).collect().sorted() == Array(0..<10))
        #expect(try await merged.timeout(.seconds(3600)).collect().sorted() == Array(0..<10))
        #expect(try await Pipeline.zip(Pipeline(0..<3), Pipeline(0..<3)).timeout(.seconds(3600)).collect().count == 3)
    }

    @Test("a graceful stop on a merged pipeline stops every input; what they read comes out, then the run ends normally")
    func gracefulStopOnMerge() async throws {
        let pulledA = Counter(), pulledB = Counter()
        let stop = GracefulStop()
        let merged = Pipeline.merge(
            Pipeline(CountingSequence(count: nil, pulled: pulledA)),
            Pipeline(CountingSequence(count: nil, pulled: pulledB)))
        let seen = try await withDeadline {
            var seen = 0
            try await merged.withGracefulStop(stop).forEach { _ in
                seen += 1
                if seen == 20 { stop.request() }
            }
            return seen
        }
        #expect(seen >= 20)
        #expect(seen == pulledA.value + pulledB.value)
    }
}
