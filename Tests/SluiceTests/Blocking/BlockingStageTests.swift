// Blocking stages: `blocking(on:)` moves a stage's workers to the pool, keeps the cooperative pool free,
// works in both front ends, and has the documented cancellation semantics.
import Dispatch
import Sluice
import SluiceTestSupport
import Testing

@Suite struct BlockingStageTests {
    @Test func sixteenBlockingCallsInFlightWhileTheCooperativePoolStillRuns() async throws {
        let pool = BlockingPool(threads: 16)
        defer { pool.shutdown() }
        let inFlight = HighWater(), entered = Counter(), onPool = Counter()
        // Only the async task below signals this semaphore. If the blocking calls held the
        // cooperative threads (one per core), that task could never run: the calls would time out
        // and the test fail.
        let release = DispatchSemaphore(value: 0)
        let flow = op.map { (x: Int) -> Int in
            if pool.core.ownsCurrentThread { onPool.increment() }
            inFlight.enter()
            entered.increment()
            release.waitOrFail()
            inFlight.leave()
            return x * 2
        }.workers(16).blocking(on: pool)

        let results = try await withDeadline {
            try await withThrowingTaskGroup(of: [Int]?.self) { group in
                group.addTask { try await flow(0..<16).collect() }
                group.addTask {
                    // The unrelated async task, on the cooperative pool.
                    await entered.wait(atLeast: 16)
                    #expect(inFlight.current == 16)   // all 16 are blocked right now
                    await Task.yield()
                    for _ in 0..<16 { release.signal() }
                    return nil
                }
                var collected: [Int] = []
                for try await r in group { if let r { collected = r } }
                return collected
            }
        }
        #expect(results == (0..<16).map { $0 * 2 })
        #expect(inFlight.max == 16)
        #expect(onPool.value == 16)
    }

    @Test func workersBoundTheCallsInFlightOnABiggerPool() async throws {
        let pool = BlockingPool(threads: 8)
        defer { pool.shutdown() }
        let calls = GatedBlockingCalls()
        let (inFlight, entered, release) = (calls.inFlight, calls.entered, calls.release)
        let flow = calls.flow(workers: 3, on: pool)
        try await withDeadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { let out = try await flow(0..<12).collect(); #expect(out == Array(0..<12)) }
                await entered.wait(atLeast: 3)
                #expect(inFlight.current == 3)
                for _ in 0..<12 { release.signal() }
                try await group.waitForAll()
            }
        }
        #expect(inFlight.max == 3)
    }

    @Test func bothFrontEndsRunTheStageOnThePool() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let piped = try await (Pipeline(0..<20)
            | op.map { (x: Int) in (x, pool.core.ownsCurrentThread) }.workers(2).blocking(on: pool)).collect()
        let built = try await Flow<Int, (Int, Bool)> {
            Map { ($0, pool.core.ownsCurrentThread) }.workers(2).blocking(on: pool)
        }(0..<20).collect()
        #expect(piped.map(\.0) == Array(0..<20) && piped.allSatisfy { $0.1 })
        #expect(built.map(\.0) == Array(0..<20) && built.allSatisfy { $0.1 })
        // Without the modifier, the same stage runs on the cooperative pool.
        let plain = try await (Pipeline(0..<5) | op.map { (_: Int) in pool.core.ownsCurrentThread }.workers(2)).collect()
        #expect(!plain.contains(true))
    }

    @Test func anAsyncBodyStaysOnThePoolAcrossSuspensions() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let other = Gate()
        other.open()
        let flow = op.map { (x: Int) async throws -> Bool in
            let before = pool.core.ownsCurrentThread
            try await other.wait()
            await Task.yield()
            return before && pool.core.ownsCurrentThread
        }.workers(2).blocking(on: pool)
        #expect(try await flow(0..<10).collect() == Array(repeating: true, count: 10))
    }

    @Test func aFragmentRunsWhollyOnThePoolAndSharesItWithTheNextStage() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let onPool = { @Sendable (_: Int) in pool.core.ownsCurrentThread }
        let fragment = (op.map { (x: Int) in x + 1 } | op.filter { (_: Int) in onPool(0) }).named("read").blocking(on: pool)
        let p = Pipeline(0..<50) | fragment | op.map { (x: Int) in (x, onPool(x)) }.workers(2).blocking(on: pool)
        let out = try await p.collect()
        #expect(out.map(\.0) == Array(1...50))
        #expect(out.allSatisfy { $0.1 })
    }

    @Test func aFailureInABlockingStageIsAStageFailure() async throws {
        struct Broken: Error {}
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let flow = op.map { (x: Int) throws -> Int in
            if x == 3 { throw Broken() }
            return x
        }.workers(2).blocking(on: pool).named("read")
        let error = await #expect(throws: StageFailure.self) { try await flow(0..<10).collect() }
        #expect(error?.stage == "read")
        #expect(error?.item as? Int == 3)
        #expect(error?.underlying is Broken)
    }

    @Test func cancellationWaitsForRunningCallsAndStartsNoNewOnes() async throws {
        // 4 workers, 2 threads: two calls block, two workers wait for a thread.
        let pool = BlockingPool(threads: 2)
        // The run's own task lives on a one-thread pool, and its consumer holds that thread while it
        // handles item 0: the run cannot notice its cancellation by resuming, it must stop at the
        // moment it is cancelled.
        let callerPool = BlockingPool(threads: 1)
        defer { pool.shutdown(); callerPool.shutdown() }
        let started = Counter(), finished = Counter(), consuming = Counter()
        let release = DispatchSemaphore(value: 0), hold = DispatchSemaphore(value: 0)
        let flow = op.map { (x: Int) -> Int in
            started.increment()
            if x > 0 { release.waitOrFail() }
            finished.increment()
            return x
        }.workers(4).unordered().blocking(on: pool)

        try await withDeadline {
            let run = Task(executorPreference: callerPool) {
                try await flow(0..<100).forEach { _ in
                    if consuming.increment() == 1 { hold.waitOrFail() }
                }
            }
            await consuming.wait(atLeast: 1)
            await started.wait(atLeast: 3)   // item 0, and one blocked call per pool thread
            run.cancel()
            // The two running calls cannot be interrupted: let them return.
            release.signal()
            release.signal()
            await finished.wait(atLeast: 3)
            hold.signal()
            for _ in 0..<100 { release.signal() }   // frees any call that wrongly started
            let result = await run.result
            #expect(throws: CancellationError.self) { try result.get() }
            // The run ended only after the running calls had returned (it is structured) …
            #expect(finished.value == 3)
        }
        // … and no call started after the cancellation.
        #expect(started.value == 3)
    }
}
