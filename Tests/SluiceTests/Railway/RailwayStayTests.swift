// Staying on the railway: then… stages act on successes, failures pass unchanged; mapFailure.
import Testing
import Sluice
import SluiceTestSupport

@Suite struct RailwayStayTests {
    /// 1…6 through a tryMap that fails on multiples of 3.
    let entry = op.tryMap { (x: Int) throws -> Int in
        if x.isMultiple(of: 3) { throw RailBoom(id: x) }
        return x
    }.named("fetch")

    @Test func thenMapTransformsSuccessesAndPassesFailuresUnchanged() async throws {
        let calls = Recorder<Int>()
        let flow = entry | op.thenMap { (x: Int) throws -> String in
            calls.record(x)
            if x == 4 { throw RailBoom(id: x) }
            return "#\(x)"
        }.named("parse")
        #expect(try await flow(1...6).collect().map(railSummary) == [
            "ok #1", "ok #2", "fail fetch 3: boom 3", "fail parse 4: boom 4", "ok #5", "fail fetch 6: boom 6",
        ])
        #expect(calls.all == [1, 2, 4, 5])
    }

    @Test func asyncThenMap() async throws {
        let flow = entry | op.thenMap { (x: Int) async throws -> Int in
            await Task.yield()
            return x * 100
        }
        #expect(try await flow(1...3).collect().map(railSummary) == ["ok 100", "ok 200", "fail fetch 3: boom 3"])
    }

    @Test func thenFlatMapExpandsSuccessesAndPassesFailures() async throws {
        let flow = entry | op.thenFlatMap { (x: Int) throws -> [Int] in
            if x == 2 { throw RailBoom(id: x) }
            return [x, x]
        }
        #expect(try await flow(1...3).collect().map(railSummary) == [
            "ok 1", "ok 1", "fail thenFlatMap 2: boom 2", "fail fetch 3: boom 3",
        ])
    }

    @Test func thenFlatMapOfAnAsyncSequenceKeepsEmittedItemsThenOneFailure() async throws {
        let flow = entry | op.thenFlatMap { (x: Int) in RailNumbers(count: x, fails: x == 2) }
        #expect(try await flow(1...3).collect().map(railSummary) == [
            "ok 0", "ok 0", "ok 1", "fail thenFlatMap 2: boom 2", "fail fetch 3: boom 3",
        ])
    }

    @Test func asyncThenFlatMapOfASequence() async throws {
        let flow = entry | op.thenFlatMap { (x: Int) async throws -> [Int] in [x * 10] }
        #expect(try await flow(2...3).collect().map(railSummary) == ["ok 20", "fail fetch 3: boom 3"])
    }

    @Test func thenFilterDropsRejectedSuccessesOnlyAndNeverSeesFailures() async throws {
        let seen = Recorder<Int>()
        let flow = entry | op.thenFilter { (x: Int) throws -> Bool in
            seen.record(x)
            if x == 5 { throw RailBoom(id: x) }
            return x.isMultiple(of: 2)
        }
        #expect(try await flow(1...6).collect().map(railSummary) == [
            "ok 2", "fail fetch 3: boom 3", "ok 4", "fail thenFilter 5: boom 5", "fail fetch 6: boom 6",
        ])
        #expect(seen.all == [1, 2, 4, 5])
    }

    @Test func asyncThenFilter() async throws {
        let flow = entry | op.thenFilter { (x: Int) async throws -> Bool in x > 1 }
        #expect(try await flow(1...3).collect().map(railSummary) == ["ok 2", "fail fetch 3: boom 3"])
    }

    @Test func thenForEachRunsOnSuccessesAndPassesEveryItem() async throws {
        let seen = Recorder<Int>()
        let flow = entry | op.thenForEach { (x: Int) throws in
            if x == 2 { throw RailBoom(id: x) }
            seen.record(x)
        }
        #expect(try await flow(1...4).collect().map(railSummary) == [
            "ok 1", "fail thenForEach 2: boom 2", "fail fetch 3: boom 3", "ok 4",
        ])
        #expect(seen.all == [1, 4])
    }

    @Test func asyncThenForEach() async throws {
        let seen = Counter()
        let flow = entry | op.thenForEach { (_: Int) async in seen.increment() }
        #expect(try await flow(1...4).collect().count == 4)
        #expect(seen.value == 3)
    }

    @Test func mapFailureTransformsFailuresOnly() async throws {
        let flow = entry | op.mapFailure { (failure: StageFailure) in
            var failure = failure
            failure.stage = "handled " + failure.stage
            return failure
        }
        #expect(try await flow(2...4).collect().map(railSummary) == ["ok 2", "fail handled fetch 3: boom 3", "ok 4"])
    }

    @Test func asyncMapFailure() async throws {
        let log = Recorder<String>()
        let flow = entry | op.mapFailure { (failure: StageFailure) async in
            log.record(failure.description)
            return failure
        }
        #expect(try await flow(1...6).collect().count == 6)
        #expect(log.all == ["[fetch] item 3: boom 3", "[fetch] item 6: boom 6"])
    }

    @Test func aThrowingFailureHandlerFailsTheRun() async throws {
        let flow = entry | op.mapFailure { (_: StageFailure) throws -> StageFailure in throw RailBoom(id: -1) }
        let error = await #expect(throws: StageFailure.self) { try await flow(1...6).collect() }
        #expect(error?.stage == "mapFailure")
        #expect((error?.underlying as? RailBoom)?.id == -1)
    }

    @Test func builderStayComponents() async throws {
        let log = Recorder<String>()
        let flow = Flow<Int, Result<String, StageFailure>> {
            TryMap {
                if $0 == 3 { throw RailBoom(id: $0) }
                return $0
            }.named("fetch")
            ThenFilter { (x: Int) in x != 2 }
            ThenForEach { (x: Int) in log.record("saw \(x)") }
            ThenFlatMap { (x: Int) in [x, x + 10] }
            ThenMap { (x: Int) in "#\(x)" }
            MapFailure<String> { failure in
                log.record("failed \(failure.item.map { "\($0)" } ?? "")")
                return failure
            }
        }
        #expect(try await flow(1...4).collect().map(railSummary) == [
            "ok #1", "ok #11", "fail fetch 3: boom 3", "ok #4", "ok #14",
        ])
        #expect(log.all == ["saw 1", "failed 3", "saw 4"] || log.all == ["saw 1", "saw 4", "failed 3"])
    }
}
