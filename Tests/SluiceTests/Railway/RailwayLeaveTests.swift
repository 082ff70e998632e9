// Leaving the railway: recover, successes, failures, and the partition() terminal.
import Testing
import Sluice

@Suite struct RailwayLeaveTests {
    /// Fails on multiples of 3.
    let entry = op.tryMap { (x: Int) throws -> Int in
        if x.isMultiple(of: 3) { throw RailBoom(id: x) }
        return x
    }.named("fetch")

    @Test func recoverReplacesFailuresAndUnwrapsSuccesses() async throws {
        let flow = entry | op.recover { (failure: StageFailure) in -(failure.item as! Int) }
        #expect(try await flow(1...6).collect() == [1, 2, -3, 4, 5, -6])
    }

    @Test func asyncRecover() async throws {
        let flow = entry | op.recover { (_: StageFailure) async in 0 }
        #expect(try await flow(2...4).collect() == [2, 0, 4])
    }

    @Test func aThrowingRecoverFailsTheRun() async throws {
        let flow = entry | op.recover { (_: StageFailure) throws -> Int in throw RailBoom(id: -1) }.named("fallback")
        let error = await #expect(throws: StageFailure.self) { try await flow(1...6).collect() }
        #expect(error?.stage == "fallback")
    }

    @Test func successesKeepsOnlySuccesses() async throws {
        #expect(try await (entry | op.successes())(1...7).collect() == [1, 2, 4, 5, 7])
    }

    @Test func failuresKeepsOnlyFailures() async throws {
        let failed = try await (entry | op.failures())(1...7).collect()
        #expect(failed.map(railSummary) == ["fail fetch 3: boom 3", "fail fetch 6: boom 6"])
    }

    @Test func builderLeaveComponents() async throws {
        let recovered = Flow<Int, Int> {
            TryMap { if $0 == 2 { throw RailBoom(id: $0) } else { $0 } }
            Recover { (_: StageFailure) in 0 }
        }
        #expect(try await recovered([1, 2, 3]).collect() == [1, 0, 3])
        let kept = Flow<Int, Int> { entry; Successes<Int>() }
        #expect(try await kept(1...4).collect() == [1, 2, 4])
        let dropped = Flow<Int, StageFailure> { entry; Failures<Int>() }
        #expect(try await dropped(1...4).collect().map(\.stage) == ["fetch"])
    }

    @Test func partitionOfMixedResults() async throws {
        let (successes, failures) = try await (Pipeline(1...7) | entry).partition()
        #expect(successes == [1, 2, 4, 5, 7])
        #expect(failures.map(railSummary) == ["fail fetch 3: boom 3", "fail fetch 6: boom 6"])
    }

    @Test func partitionOfAllSuccesses() async throws {
        let (successes, failures) = try await (Pipeline([1, 2, 4]) | entry).partition()
        #expect(successes == [1, 2, 4])
        #expect(failures.isEmpty)
    }

    @Test func partitionOfAllFailures() async throws {
        let (successes, failures) = try await (Pipeline([3, 6, 9]) | entry).partition()
        #expect(successes.isEmpty)
        #expect(failures.compactMap { $0.item as? Int } == [3, 6, 9])
    }

    @Test func partitionOfNothing() async throws {
        let (successes, failures) = try await (Pipeline([Int]()) | entry).partition()
        #expect(successes.isEmpty)
        #expect(failures.isEmpty)
    }

    @Test func partitionStillFailsFastOnAStageOffTheRailway() async throws {
        let p = Pipeline(1...5) | entry | op.map { (r: Result<Int, StageFailure>) throws -> Result<Int, StageFailure> in
            if case .success(4) = r { throw RailBoom(id: 4) }
            return r
        }.named("plain")
        let error = await #expect(throws: StageFailure.self) { try await p.partition() }
        #expect(error?.stage == "plain")
    }
}
