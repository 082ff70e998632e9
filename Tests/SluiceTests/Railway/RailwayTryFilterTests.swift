// The railway entries `tryFilter` and `tryForEach`, in both front ends, and typed access to a
// failure's item (`failure.item(as:)`).
import Sluice
import SluiceTestSupport
import Testing

@Suite struct RailwayTryFilterTests {
    @Test func tryFilterKeepsAcceptedItemsAndTurnsErrorsIntoFailures() async throws {
        let flow = op.tryFilter { (x: Int) throws -> Bool in
            if x == 4 { throw RailBoom(id: x) }
            return x.isMultiple(of: 2)
        }
        #expect(try await flow(1...6).collect().map(railSummary) == ["ok 2", "fail tryFilter 4: boom 4", "ok 6"])
        let async = op.tryFilter { (x: Int) async throws -> Bool in
            await Task.yield()
            if x == 1 { throw RailBoom(id: x) }
            return true
        }.workers(3)
        #expect(try await async([0, 1, 2]).collect().map(railSummary) == ["ok 0", "fail tryFilter 1: boom 1", "ok 2"])
    }

    @Test func tryForEachPassesItemsOnAndTurnsErrorsIntoFailures() async throws {
        let seen = Recorder<Int>()
        let flow = op.tryForEach { (x: Int) throws in
            if x == 2 { throw RailBoom(id: x) }
            seen.record(x)
        }.named("store")
        #expect(try await flow(1...3).collect().map(railSummary) == ["ok 1", "fail store 2: boom 2", "ok 3"])
        #expect(seen.all == [1, 3])
        let async = op.tryForEach { (x: Int) async throws in
            if x == 3 { throw RailBoom(id: x) }
        }
        #expect(try await (Pipeline(1...3) | async | op.successes()).collect() == [1, 2])
    }

    @Test func bothFrontEndsBuildTheSameEntries() {
        let a: Flow<Int, Result<Int, StageFailure>> = op.tryFilter { (x: Int) in x > 0 }
        let b = Flow<Int, Result<Int, StageFailure>> { TryFilter { (x: Int) in x > 0 } }
        #expect(a.stages == b.stages && a.stages.map(\.kind) == ["tryFilter"])
        let c: Flow<Int, Result<Int, StageFailure>> = op.tryForEach { (_: Int) in }
        let d = Flow<Int, Result<Int, StageFailure>> { TryForEach { (_: Int) in } }
        #expect(c.stages == d.stages && c.stages.map(\.kind) == ["tryForEach"])
    }

    @Test func aFailureGivesItsItemTyped() async throws {
        let failures = try await (Pipeline(["a", "bb"]) | op.tryMap { (s: String) throws -> Int in
            throw RailBoom(id: s.count)
        } | op.failures()).collect()
        #expect(failures.map { $0.item(as: String.self) } == ["a", "bb"])
        #expect(failures[0].item(as: Int.self) == nil)
        #expect(StageFailure(stage: "source", item: nil, underlying: RailBoom(id: 0)).item(as: String.self) == nil)
    }
}
