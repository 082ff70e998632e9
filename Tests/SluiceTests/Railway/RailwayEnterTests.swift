// Entering the railway: tryMap and tryFlatMap turn errors into failure values.
import Testing
import Sluice

@Suite struct RailwayEnterTests {
    @Test func tryMapTurnsErrorsIntoFailuresAndKeepsRunning() async throws {
        let flow = op.tryMap { (x: Int) throws -> Int in
            if x.isMultiple(of: 3) { throw RailBoom(id: x) }
            return x * 10
        }
        let out = try await flow(1...6).collect()
        #expect(out.map(railSummary) == [
            "ok 10", "ok 20", "fail tryMap 3: boom 3", "ok 40", "ok 50", "fail tryMap 6: boom 6",
        ])
    }

    @Test func asyncTryMapTurnsErrorsIntoFailures() async throws {
        let flow = op.tryMap { (x: Int) async throws -> Int in
            await Task.yield()
            if x == 2 { throw RailBoom(id: x) }
            return x
        }
        #expect(try await flow([1, 2, 3]).collect().map(railSummary) == ["ok 1", "fail tryMap 2: boom 2", "ok 3"])
    }

    @Test func failureCarriesStageItemErrorAndOneAttempt() async throws {
        let flow = op.tryMap { (x: Int) throws -> Int in throw RailBoom(id: x) }.named("fetch")
        let out = try await flow([42]).collect()
        guard case .failure(let failure) = try #require(out.first) else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.stage == "fetch")
        #expect(failure.item as? Int == 42)
        #expect((failure.underlying as? RailBoom)?.id == 42)
        #expect(failure.attempts == 1)
        #expect(failure.description == "[fetch] item 42: boom 42")
    }

    @Test func failureInsideANamedFragmentIsQualified() async throws {
        let ingest = (op.tryMap { (x: Int) in x }.named("fetch")
            | op.thenMap { (x: Int) throws -> Int in throw RailBoom(id: x) }.named("parse")).named("ingest")
        #expect(try await ingest([7]).collect().map(railSummary) == ["fail ingest/parse 7: boom 7"])
    }

    @Test func tryFlatMapEmitsSuccessesOrOneFailure() async throws {
        let flow = op.tryFlatMap { (n: Int) throws -> [Int] in
            if n == 2 { throw RailBoom(id: n) }
            return Array(repeating: n, count: n)
        }
        #expect(try await flow([1, 2, 3]).collect().map(railSummary) == [
            "ok 1", "fail tryFlatMap 2: boom 2", "ok 3", "ok 3", "ok 3",
        ])
    }

    @Test func asyncTryFlatMapOfASequence() async throws {
        let flow = op.tryFlatMap { (n: Int) async throws -> [Int] in
            if n == 0 { throw RailBoom(id: n) }
            return [n, -n]
        }
        #expect(try await flow([0, 1]).collect().map(railSummary) == ["fail tryFlatMap 0: boom 0", "ok 1", "ok -1"])
    }

    /// Consistent with `flatMap`, which streams: sub-items already emitted stay, one failure follows.
    @Test func tryFlatMapKeepsTheSubItemsEmittedBeforeAMidExpansionFailure() async throws {
        let flow = op.tryFlatMap { (n: Int) in RailNumbers(count: n, fails: n == 3) }
        #expect(try await flow([2, 3, 1]).collect().map(railSummary) == [
            "ok 0", "ok 1",
            "ok 0", "ok 1", "ok 2", "fail tryFlatMap 3: boom 3",
            "ok 0",
        ])
    }

    @Test func tryFlatMapOfAnAsyncSequenceWhoseCreationThrows() async throws {
        let flow = op.tryFlatMap { (n: Int) async throws -> RailNumbers in
            if n == 1 { throw RailBoom(id: 1) }
            return RailNumbers(count: n)
        }
        #expect(try await flow([1, 2]).collect().map(railSummary) == ["fail tryFlatMap 1: boom 1", "ok 0", "ok 1"])
    }

    @Test func builderTryMapTakesDollarZero() async throws {
        let flow = Flow<Int, Result<Int, StageFailure>> {
            TryMap {
                if $0 < 0 { throw RailBoom(id: $0) }
                return $0 + 1
            }
        }
        #expect(try await flow([1, -1]).collect().map(railSummary) == ["ok 2", "fail tryMap -1: boom -1"])
        let expand = Flow<Int, Result<Int, StageFailure>> { TryFlatMap { [$0, $0] } }
        #expect(try await expand([5]).collect().map(railSummary) == ["ok 5", "ok 5"])
    }
}
