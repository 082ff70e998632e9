// Limits on a whole run: `timeout` and `idleTimeout` end the run with a `PipelineTimeout` naming the
// limit, after stopping every stage; runs within their limits are unaffected. Also the deferred
// async source (a fresh `AsyncSequence` per run).
import Sluice
import SluiceTestSupport
import Testing

@Suite struct RunTimeoutTests {
    @Test func theRunTimeoutEndsTheRunAndStopsEveryStage() async throws {
        let clock = TestClock()
        let never = Gate()
        let cancelled = Counter()
        let p = (Pipeline(0..<10) | op.map { (x: Int) async throws -> Int in
            if x == 3 {
                do { try await never.wait() } catch { cancelled.increment(); throw error }
            }
            return x
        }).timeout(.seconds(30), clock: clock)
        // The loop reads 0, 1 and 2; item 3 never ends; the limit fires.
        let (items, error) = try await withDeadline {
            var items: [Int] = []
            do {
                for try await x in p {
                    items.append(x)
                    if x == 2 {
                        while never.waiting == 0 { await Task.yield() }
                        clock.advance(by: .seconds(30))
                    }
                }
                return (items, nil as (any Error)?)
            } catch {
                return (items, error)
            }
        }
        #expect(items == [0, 1, 2])
        #expect(error as? PipelineTimeout == PipelineTimeout(limit: .run, duration: .seconds(30)))
        #expect(cancelled.value == 1)   // the stage's body was cancelled before the run threw
        #expect("\(error!)".contains("timeout"))
    }

    @Test func theIdleTimeoutFiresOnlyAfterNothingMovedForItsDuration() async throws {
        let clock = TestClock()
        let (stream, input) = AsyncStream.makeStream(of: Int.self)
        let p = (Pipeline(stream) | op.map { $0 * 10 }).idleTimeout(.seconds(5), clock: clock)
        let outcome: ([Int], (any Error)?) = try await withDeadline {
            do {
                return try await p.open { outputs in
                    var it = outputs.makeAsyncIterator()
                    var seen: [Int] = []
                    input.yield(1)
                    seen.append(try await it.next()!)
                    clock.advance(by: .seconds(3))
                    input.yield(2)
                    seen.append(try await it.next()!)   // activity at t = 3 s
                    clock.advance(by: .seconds(4))       // t = 7 s: 4 s idle, not 5
                    input.yield(3)
                    seen.append(try await it.next()!)   // activity at t = 7 s
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(5))
                    _ = try await it.next()
                    return (seen, nil)
                }
            } catch {
                return ([], error)
            }
        }
        #expect(outcome.1 as? PipelineTimeout == PipelineTimeout(limit: .idle, duration: .seconds(5)))
        #expect("\(outcome.1!)".contains("idle"))
        input.finish()
    }

    @Test func aRunWithinItsLimitsIsUnaffectedAndLeavesNoTimer() async throws {
        let clock = TestClock()
        let p = (Pipeline(0..<1_000) | op.map { $0 + 1 }).timeout(.seconds(1), clock: clock).idleTimeout(.seconds(1), clock: clock)
        #expect(try await p.collect() == Array(1...1_000))
        #expect(try await p.count() == 1_000)   // each run has its own watch
        #expect(clock.sleepers == 0)
    }

    @Test func theLimitsAreKeptWhenStagesAreAdded() async throws {
        let clock = TestClock()
        let never = Gate()
        let p = Pipeline([1]).timeout(.seconds(1), clock: clock) | op.map { (x: Int) async throws -> Int in
            try await never.wait()
            return x
        }
        let run = Task { try await p.collect() }
        try await withDeadline {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
        }
        await #expect(throws: PipelineTimeout(limit: .run, duration: .seconds(1))) { try await run.value }
    }

    @Test func aDeferredAsyncSourceThatThrowsFailsAsTheSource() async throws {
        struct Offline: Error {}
        let p = Pipeline { () async throws -> AsyncStream<Int> in throw Offline() } | op.map { $0 + 1 }
        let (items, error) = await readUntilFailure(p)
        #expect(items.isEmpty)
        #expect((error as? StageFailure)?.stage == "source")
        #expect((error as? StageFailure)?.underlying is Offline)
    }

    @Test func aDeferredAsyncSourceIsMadeAfreshForEachRun() async throws {
        let made = Counter()
        let p = Pipeline { () async throws -> AsyncStream<Int> in
            let n = made.increment()
            return AsyncStream { c in
                for i in 0..<3 { c.yield(i * n) }
                c.finish()
            }
        } | op.map { $0 + 1 }
        #expect(try await p.collect() == [1, 2, 3])
        #expect(try await p.collect() == [1, 3, 5])
        #expect(made.value == 2)
    }
}
