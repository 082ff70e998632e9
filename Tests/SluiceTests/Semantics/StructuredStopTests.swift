// `break` is structured: once a loop has exited no stage body starts and the source is not read
// again; `open { }` returns only after every task of the run has ended. A cancelled caller always
// gets `CancellationError`. Failures name every enclosing group.
import Synchronization
import Testing
import Sluice
import SluiceTestSupport

private struct Translated: Error {}
private struct StopError: Error {}

/// Instruments a run: bodies running now, bodies started after the consumer left, source reads.
private final class Probe: Sendable {
    let active = Atomic<Int>(0)
    let exited = Atomic<Bool>(false)
    let startedAfterExit = Atomic<Int>(0)
    let readsAfterExit = Atomic<Int>(0)

    func enter() {
        active.add(1, ordering: .sequentiallyConsistent)
        if exited.load(ordering: .sequentiallyConsistent) { startedAfterExit.add(1, ordering: .relaxed) }
    }
    func leave() { active.subtract(1, ordering: .sequentiallyConsistent) }
    func read() { if exited.load(ordering: .sequentiallyConsistent) { readsAfterExit.add(1, ordering: .relaxed) } }
}

/// A sequence whose reads are recorded.
private struct ProbedSource: Sequence, Sendable {
    let probe: Probe
    let count: Int
    struct Iterator: IteratorProtocol {
        let probe: Probe
        let count: Int
        var i = 0
        mutating func next() -> Int? {
            probe.read()
            guard i < count else { return nil }
            defer { i += 1 }
            return i
        }
    }
    func makeIterator() -> Iterator { Iterator(probe: probe, count: count) }
}

@Suite struct StructuredStopTests {
    @Test(arguments: [false, true])
    func afterBreakNoBodyStartsAndTheSourceIsNotRead(async: Bool) async throws {
        for _ in 0..<40 {
            let probe = Probe()
            let p: Pipeline<Int>
            if async {
                p = Pipeline(ProbedSource(probe: probe, count: 1_000_000)) | op.map({ (x: Int) async -> Int in
                    probe.enter(); defer { probe.leave() }
                    await Task.yield()
                    return x
                }).workers(4)
            } else {
                p = Pipeline(ProbedSource(probe: probe, count: 1_000_000)) | op.map { (x: Int) -> Int in
                    probe.enter(); defer { probe.leave() }
                    return x
                }
            }
            for try await x in p { if x >= 100 { break } }
            probe.exited.store(true, ordering: .sequentiallyConsistent)
            // Give any straggler a chance to (wrongly) start or read.
            await yieldRepeatedly(200)
            // A bare loop cannot wait for the run: a body or a read that had already passed its
            // stop check when the loop exited may still begin (at most one per worker). Nothing
            // else may.
            #expect(probe.startedAfterExit.load(ordering: .relaxed) <= 4)
            #expect(probe.readsAfterExit.load(ordering: .relaxed) <= 1)
        }
    }

    @Test func afterBreakTheNextStageOfAnAsyncChainDoesNotStart() async throws {
        // Two async stages in one worker (a fragment with workers). The first is stuck on an item,
        // ignoring cancellation, when the loop exits; once it returns, the second must not start.
        let release = Counter()
        let firstStarted = Counter()
        let firstReturned = Counter()
        let secondStartedLate = Counter()
        let exited = Counter()
        let first = op.map { (x: Int) async -> Int in
            if x == 1 {
                firstStarted.increment()
                while release.value == 0 { await Task.yield() }
                firstReturned.increment()
            }
            return x
        }
        let second = op.map { (x: Int) async -> Int in
            if exited.value > 0 { secondStartedLate.increment() }
            return x
        }
        let p = Pipeline(0..<10) | (first | second).workers(1).buffer(0)
        for try await x in p where x == 0 {
            await firstStarted.wait(atLeast: 1)   // item 1 is inside the first stage
            break
        }
        exited.increment()
        release.increment()
        try await withDeadline { await firstReturned.wait(atLeast: 1) }
        await yieldRepeatedly(500)
        #expect(secondStartedLate.value == 0)
    }

    @Test func openReturnsOnlyAfterEveryTaskOfTheRunHasEnded() async throws {
        for _ in 0..<40 {
            let probe = Probe()
            let never = Gate()
            let p = Pipeline(ProbedSource(probe: probe, count: 1_000_000)) | op.map({ (x: Int) async throws -> Int in
                probe.enter(); defer { probe.leave() }
                if x >= 150 { try await never.wait() }   // would run forever if not cancelled
                await Task.yield()
                return x
            }).workers(4)
            let seen = try await withDeadline {
                try await p.open { outputs in
                    var n = 0
                    for try await x in outputs {
                        n += 1
                        if x >= 100 { break }
                    }
                    return n
                }
            }
            probe.exited.store(true, ordering: .sequentiallyConsistent)
            #expect(seen == 101)
            #expect(probe.active.load(ordering: .sequentiallyConsistent) == 0)
            await yieldRepeatedly(100)
            #expect(probe.startedAfterExit.load(ordering: .relaxed) == 0)
            #expect(probe.readsAfterExit.load(ordering: .relaxed) == 0)
        }
    }

    @Test func openDeliversThePrefixAndThenTheFailure() async throws {
        let p = Pipeline(0..<10) | op.map { (x: Int) throws -> Int in if x == 4 { throw StopError() }; return x }
        var seen: [Int] = []
        await #expect(throws: StageFailure.self) {
            try await p.open { outputs in
                for try await x in outputs { seen.append(x) }
            }
        }
        #expect(seen == [0, 1, 2, 3])
    }

    @Test func aCancelledCallerGetsCancellationErrorEvenWhenABodyTranslatesIt() async throws {
        for _ in 0..<30 {
            let started = Counter()
            let p = Pipeline(0..<1_000) | op.map { (x: Int) in x } | op.map({ (x: Int) async throws -> Int in
                started.increment()
                do { try await Gate().wait() } catch { throw Translated() }
                return x
            }).workers(4).named("translator")
            let task = Task { try await p.collect() }
            await started.wait(atLeast: 4)
            task.cancel()
            let result = try await withDeadline { await task.result }
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test func aCancelledLoopGetsCancellationErrorToo() async throws {
        let started = Counter()
        let p = Pipeline(0..<1_000) | op.map({ (x: Int) async throws -> Int in
            started.increment()
            if x > 0 { do { try await Gate().wait() } catch { throw Translated() } }
            return x
        }).workers(2)
        let task = Task {
            var n = 0
            for try await _ in p { n += 1 }
            return n
        }
        await started.wait(atLeast: 2)
        task.cancel()
        let result = try await withDeadline { await task.result }
        #expect(throws: CancellationError.self) { try result.get() }
    }

    @Test func nestedGroupNamesKeepEveryLevel() async throws {
        let id = op.map { (x: Int) in x }
        let fail = op.map { (x: Int) throws -> Int in if x == 2 { throw StopError() }; return x }
        let named = (id | ((id | fail.named("parse")).named("inner"))).named("outer")
        let error1 = await #expect(throws: StageFailure.self) { try await (Pipeline(0..<5) | named).collect() }
        #expect(error1?.stage == "outer/inner/parse")

        let unnamedInner = (id | ((id | fail.named("parse")).workers(2))).named("outer")
        let error2 = await #expect(throws: StageFailure.self) { try await (Pipeline(0..<5) | unnamedInner).collect() }
        #expect(error2?.stage == "outer/parse")

        // The same names on the asynchronous path.
        let asyncFail = op.map { (x: Int) async throws -> Int in if x == 2 { throw StopError() }; return x }
        let asyncNamed = (id | ((id | asyncFail.named("fetch")).named("inner"))).named("outer")
        let error3 = await #expect(throws: StageFailure.self) { try await (Pipeline(0..<5) | asyncNamed).collect() }
        #expect(error3?.stage == "outer/inner/fetch")
    }
}
