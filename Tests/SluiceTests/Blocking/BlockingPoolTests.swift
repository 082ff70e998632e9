// BlockingPool: runs jobs on its own threads, is shared, and stops deterministically (shutdown or release).
import Dispatch
import Sluice
import SluiceTestSupport
import Testing

@Suite struct BlockingPoolTests {
    @Test func runsTasksThatPreferItOnItsOwnThreads() async {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let onPool = await withTaskExecutorPreference(pool) { pool.core.ownsCurrentThread }
        #expect(onPool)
        #expect(!pool.core.ownsCurrentThread)
    }

    @Test func startsItsThreadsBeforeInitReturns() {
        let name = Blocking.uniquePoolName("blkstart")
        let pool = BlockingPool(threads: 3, name: name)
        defer { pool.shutdown() }
        #expect(pool.threads == 3)
        #expect(pool.name == name)
        #expect(pool.liveThreads == 3)
        if let n = Blocking.osThreads(named: name) { #expect(n == 3) }
    }

    @Test func shutdownJoinsEveryThread() async throws {
        let name = Blocking.uniquePoolName("blkshut")
        let pool = BlockingPool(threads: 4, name: name)
        let sum = try await (Pipeline(0..<100) | op.map { (x: Int) in x }.workers(4).blocking(on: pool)).reduce(0, +)
        #expect(sum == 4950)
        pool.shutdown()
        #expect(pool.liveThreads == 0)
        // The OS threads are gone too.
        #expect(Blocking.waitUntilNoOSThreads(named: name))
        pool.shutdown()   // idempotent
        #expect(pool.liveThreads == 0)
    }

    @Test func releasingThePoolStopsItsThreads() async throws {
        let name = Blocking.uniquePoolName("blkrel")
        let core = try await runOnceAndRelease(name: name)
        // The pool is gone; its deinit stopped and joined the threads.
        #expect(core.liveThreads == 0)
        #expect(Blocking.waitUntilNoOSThreads(named: name))
    }

    /// Creates a pool, uses it in a pipeline, and drops every reference to it before returning.
    private func runOnceAndRelease(name: String) async throws -> PoolThreads {
        var pool: BlockingPool? = BlockingPool(threads: 3, name: name)
        weak let weakPool = pool
        let core = pool!.core
        let flow = op.map { (x: Int) in x + 1 }.workers(3).blocking(on: pool!)
        #expect(try await flow(0..<10).collect() == Array(1...10))
        #expect(core.liveThreads == 3)
        pool = nil
        _ = consume flow
        #expect(weakPool == nil)
        return core
    }

    @Test func twoPipelinesShareOnePoolsThreads() async throws {
        // 3 + 3 workers on a 4-thread pool: at most min(6, 4) = 4 blocking calls at once.
        let pool = BlockingPool(threads: 4)
        defer { pool.shutdown() }
        let calls = GatedBlockingCalls()
        let (inFlight, entered, release) = (calls.inFlight, calls.entered, calls.release)
        let flow = calls.flow(workers: 3, on: pool)
        try await withDeadline {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { let n = try await flow(0..<10).count(); #expect(n == 10) }
                group.addTask { let n = try await flow(0..<10).count(); #expect(n == 10) }
                await entered.wait(atLeast: 4)
                #expect(inFlight.current == 4)
                for _ in 0..<20 { release.signal() }
                try await group.waitForAll()
            }
        }
        #expect(inFlight.max == 4)
        #expect(entered.value == 20)
    }

    @Test func jobsAfterShutdownRunElsewhereInsteadOfHanging() async throws {
        let pool = BlockingPool(threads: 1)
        pool.shutdown()
        let onPool = await withTaskExecutorPreference(pool) { pool.core.ownsCurrentThread }
        #expect(!onPool)
        let flow = op.map { (x: Int) in x * 2 }.workers(2).blocking(on: pool)
        #expect(try await flow([1, 2, 3]).collect() == [2, 4, 6])
    }

    @Test func rejectsFewerThanOneThread() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BlockingPool(threads: 0)
        }
        #expect(stderrText(result).contains("threads must be >= 1, got 0 (BlockingPool 'sluice-blocking')"), "\(stderrText(result))")
    }

    /// Above 4,096 threads (`BlockingPool.maxThreads`): `threads: Int.max` used to start threads
    /// until the system refused one.
    @Test func rejectsMoreThanTheMaximumThreads() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BlockingPool(threads: 4_097, name: "db")
        }
        #expect(stderrText(result).contains("threads must be <= 4096, got 4097 (BlockingPool 'db')"), "\(stderrText(result))")
        let huge = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BlockingPool(threads: Int.max, name: "db")
        }
        #expect(stderrText(huge).contains("threads must be <= 4096, got 9223372036854775807 (BlockingPool 'db')"), "\(stderrText(huge))")
    }

    @Test func shutdownFromItsOwnThreadIsRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let pool = BlockingPool(threads: 1, name: "db")
            await withTaskExecutorPreference(pool) { pool.shutdown() }
        }
        #expect(stderrText(result).contains("shutdown() called on a thread of BlockingPool 'db': it would wait for itself"), "\(stderrText(result))")
    }
}
