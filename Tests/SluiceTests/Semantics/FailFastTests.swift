// DESIGN §3.5: the first error cancels all work and surfaces as one StageFailure naming the stage
// and the item; errors are never dropped; a cancelled caller gets CancellationError.
import Sluice
import SluiceTestSupport
import Testing

struct Boom: Error, Equatable, CustomStringConvertible {
    var code: Int
    var description: String { "boom \(code)" }
}

@Suite struct FailFastTests {
    @Test func aThrowingStageSurfacesOneStageFailureWithStageAndItem() async throws {
        let starts = Counter()
        func counted(_ name: String, _ f: @escaping @Sendable (Int) async throws -> Int) -> Flow<Int, Int> {
            op.map { (x: Int) async throws -> Int in
                starts.increment()
                return try await f(x)
            }.workers(4).named(name)
        }
        let p = Pipeline(0..<1_000)
            | counted("load") { $0 }
            | counted("parse") { x in
                if x == 13 { throw Boom(code: x) }
                return x
            }
            | counted("enrich") { $0 }
            | counted("store") { $0 }
        do {
            _ = try await p.collect()
            Issue.record("expected a failure")
        } catch let failure as StageFailure {
            #expect(failure.stage == "parse")
            #expect(failure.item as? Int == 13)
            #expect(failure.underlying as? Boom == Boom(code: 13))
            #expect(failure.attempts == 1)
            #expect(failure.description == "[parse] item 13: boom 13")
        }
        // Structured: when the terminal has thrown, nothing of the run is left to start a body.
        let after = starts.value
        await yieldRepeatedly()
        #expect(starts.value == after)
        #expect(after < 4_000)
    }

    @Test func errorsOfFusedSynchronousStagesNameTheirStage() async throws {
        let p = Pipeline(1...10)
            | op.map { $0 * 2 }.named("double")
            | op.compactMap { (x: Int) throws -> Int? in
                if x == 14 { throw Boom(code: 7) }
                return x
            }
        await #expect {
            try await p.collect()
        } throws: { error in
            // `named` on a single stage makes it non-default only by name: it still fuses.
            let failure = error as? StageFailure
            return failure?.stage == "compactMap" && failure?.item as? Int == 14
        }
    }

    @Test func aFailingSourceIsAStageFailureOfTheSource() async throws {
        let p = Pipeline(CountingAsyncSequence(count: 10, failAt: 3)) | op.map { $0 + 1 }
        await #expect {
            try await p.collect()
        } throws: { error in
            let failure = error as? StageFailure
            return failure?.stage == "source" && failure?.underlying is CountingAsyncSequence.SourceError
        }
    }

    @Test func aFailingDeferredSourceIsAStageFailureOfTheSource() async throws {
        let p = Pipeline { () throws -> [Int] in throw Boom(code: 1) } | op.map { $0 + 1 }
        await #expect {
            try await p.collect()
        } throws: { error in
            (error as? StageFailure)?.stage == "source"
        }
    }

    @Test func aThrowingConsumerBodyStopsTheRunWithItsOwnError() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled)) | op.map { (x: Int) async in x }
        await #expect(throws: Boom(code: 3)) {
            try await p.forEach { x in
                if x == 3 { throw Boom(code: 3) }
            }
        }
    }

    @Test func flatMapStreamsSubItemsBeforeAFailureMidExpansion() async throws {
        // The expansion yields one sub-item, waits until the consumer has it, then fails: the
        // sub-item was streamed (not held until the expansion ended) and the run fails after it.
        let received = Counter()
        let p = Pipeline([7]) | op.flatMap { (x: Int) in
            AsyncThrowingStream<Int, any Error> { continuation in
                continuation.yield(x)
                Task {
                    await received.wait(atLeast: 1)
                    continuation.finish(throwing: Boom(code: x))
                }
            }
        }.named("expand")
        let seen = Recorder<Int>()
        let error = await #expect(throws: StageFailure.self) {
            try await withDeadline {
                try await p.forEach { x in
                    seen.record(x)
                    received.increment()
                }
            }
        }
        #expect(seen.all == [7])
        #expect(error?.stage == "expand")
        #expect(error?.item as? Int == 7)
        #expect(error?.underlying as? Boom == Boom(code: 7))
    }

    @Test func aCancelledCallerGetsCancellationError() async throws {
        let gate = Gate(), started = Counter()
        let p = Pipeline(0..<100) | op.map { (x: Int) async throws -> Int in
            started.increment()
            try await gate.wait()
            return x
        }.workers(4)
        let outcome = try await withDeadline {
            await withTaskGroup(of: (any Error)?.self) { group in
                group.addTask {
                    do {
                        _ = try await p.collect()
                        return nil
                    } catch {
                        return error
                    }
                }
                await started.wait(atLeast: 4)
                group.cancelAll()
                return await group.next()!
            }
        }
        #expect(outcome is CancellationError)
    }
}
