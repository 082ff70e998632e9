// A failure must not take the items before it: in ordered mode a failing run delivers exactly the
// outputs of every item before the failing one, then throws; terminals that already have what
// they need return normally.
import Testing
import Sluice
import SluiceTestSupport

private struct PrefixError: Error, Equatable {}


@Suite struct FailurePrefixTests {
    @Test func takeReturnsWhatTheSourceGaveBeforeItFailed() async throws {
        let src = AsyncThrowingStream<Int, any Error> { c in c.yield(1); c.yield(2); c.yield(3); c.finish(throwing: PrefixError()) }
        #expect(try await Pipeline(src).take(1) == [1])
        let src2 = AsyncThrowingStream<Int, any Error> { c in c.yield(1); c.yield(2); c.yield(3); c.finish(throwing: PrefixError()) }
        let (items, error) = await readUntilFailure(Pipeline(src2) | op.map { $0 * 10 })
        #expect(items == [10, 20, 30])
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "source" && failure.underlying is PrefixError)
    }

    @Test func takeReturnsNormallyWhenALaterItemFails() async throws {
        let p = Pipeline(0..<100) | op.map { (x: Int) throws -> Int in if x == 1 { throw PrefixError() }; return x }
        #expect(try await p.take(1) == [0])
        #expect(try await p.first() == 0)
    }

    @Test(arguments: [1, 2, 4, 8])
    func aLoopSeesEveryItemBeforeTheFailureThenTheError(workers: Int) async throws {
        let p = Pipeline(0..<100) | op.map({ (x: Int) async throws -> Int in
            if x % 3 == 0 { await Task.yield() }
            if x == 50 { throw PrefixError() }
            return x
        }).workers(workers)
        let (items, error) = await readUntilFailure(p)
        #expect(items == Array(0..<50))
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "map" && failure.item as? Int == 50)
    }

    @Test(arguments: [1, 3])
    func fusedSynchronousStagesDeliverThePrefixToo(workers: Int) async throws {
        // A failure inside a chunk: the outputs of the items before it still go through the
        // stages after the failing one.
        let failing = op.map { (x: Int) throws -> Int in if x == 701 { throw PrefixError() }; return x }
        let tail: Flow<Int, Int> = op.filter { (x: Int) in x % 2 == 0 } | op.map { (x: Int) in x * 2 }
        let p = Pipeline(0..<1_000) | op.map { (x: Int) in x + 1 } | failing.workers(workers) | tail
        let (items, error) = await readUntilFailure(p)
        #expect(items == (1...700).filter { $0 % 2 == 0 }.map { $0 * 2 })
        #expect((error as? StageFailure)?.item as? Int == 701)
    }

    @Test func theEarliestFailingItemWinsWhateverTheTiming() async throws {
        for round in 0..<20 {
            let p = Pipeline(0..<200)
                | op.map({ (x: Int) async throws -> Int in
                    for _ in 0..<(x * 7 + round) % 5 { await Task.yield() }
                    if x == 120 { throw PrefixError() }
                    return x
                }).workers(4).named("first")
                | op.map({ (x: Int) async throws -> Int in
                    for _ in 0..<(x * 3 + round) % 4 { await Task.yield() }
                    if x == 90 || x == 150 { throw PrefixError() }
                    return x
                }).workers(3).named("second")
            let (items, error) = await readUntilFailure(p)
            #expect(items == Array(0..<90), "round \(round)")
            let failure = try #require(error as? StageFailure)
            #expect(failure.stage == "second" && failure.item as? Int == 90, "round \(round)")
        }
    }

    @Test func anUnorderedStageDeliversCompletedOutputsThenTheError() async throws {
        let p = Pipeline(0..<200) | op.map({ (x: Int) async throws -> Int in
            if x == 100 { throw PrefixError() }
            return x
        }).workers(4).unordered()
        let (items, error) = await readUntilFailure(p)
        #expect(Set(items).count == items.count)
        #expect(Set(items).isSubset(of: Set(0..<200)) && !items.contains(100))
        #expect((error as? StageFailure)?.item as? Int == 100)
    }

    @Test func aPartialBatchIsNotFlushedOnFailure() async throws {
        let p = Pipeline(0..<10) | op.map { (x: Int) throws -> Int in if x == 7 { throw PrefixError() }; return x } | op.batch(3)
        let (items, error) = await readUntilFailure(p)
        #expect(items == [[0, 1, 2], [3, 4, 5]])
        #expect(error is StageFailure)
    }

    /// Items past the failure that a worker holds wait until cancelled: the run ends at once (not
    /// at the test's deadline), every one of them is cancelled, and only the prefix comes out.
    /// (How many of them start at all depends on how the workers shared the input.)
    @Test func workPastTheFailureIsCancelledAtOnce() async throws {
        let never = Gate()
        let started = Counter(), cancelled = Counter()
        let p = Pipeline(0..<8) | op.map({ (x: Int) async throws -> Int in
            if x == 2 { throw PrefixError() }
            if x > 2 {
                started.increment()
                do { try await never.wait() } catch { cancelled.increment(); throw error }
            }
            return x
        }).workers(4)
        let (items, error) = try await withDeadline { await readUntilFailure(p) }
        #expect(items == [0, 1])
        #expect((error as? StageFailure)?.item as? Int == 2)
        #expect(cancelled.value == started.value)   // the workers holding items 3 and later were interrupted
    }

    @Test func aFailureInAnAsyncSourceLetsTheStagesFinishTheItemsBeforeIt() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingAsyncSequence(count: 100, pulled: pulled, failAt: 40)) | op.map({ (x: Int) async -> Int in x * 2 }).workers(3)
        let (items, error) = await readUntilFailure(p)
        #expect(items == (0..<40).map { $0 * 2 })
        #expect((error as? StageFailure)?.stage == "source")
    }
}
