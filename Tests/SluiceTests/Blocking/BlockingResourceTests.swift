// Per-worker resources (`map(using:teardown:_:)`): created once per worker, torn down exactly once
// per creation — on success, on a failing item, on cancellation and when another creation fails.
import Sluice
import SluiceTestSupport
import Testing

/// A resource that is deliberately not `Sendable`: it never leaves its worker.
private final class PooledConnection {
    let id: Int
    var used = 0
    init(id: Int) { self.id = id }
    func query(_ x: Int) -> Int {
        used += 1
        return x * 10
    }
}

/// Counts creations and teardowns, and remembers which connection each teardown closed.
private final class PooledConnectionLog: Sendable {
    let created = Counter()
    let closed = Recorder<(id: Int, used: Int)>()

    func open() -> PooledConnection { PooledConnection(id: created.increment()) }
    func close(_ c: PooledConnection) { closed.record((c.id, c.used)) }
}

private struct PoolBoom: Error {}

@Suite struct BlockingResourceTests {
    @Test func oneResourcePerWorkerTornDownOnceAfterSuccess() async throws {
        let log = PooledConnectionLog()
        let flow = op.map(using: { log.open() }, teardown: { log.close($0) }) { (c: PooledConnection, x: Int) in
            c.query(x)
        }.workers(4)
        #expect(try await flow(0..<200).collect() == (0..<200).map { $0 * 10 })
        #expect(log.created.value == 4)
        let closed = log.closed.all
        #expect(closed.map(\.id).sorted() == [1, 2, 3, 4])
        #expect(closed.map(\.used).reduce(0, +) == 200)
    }

    @Test func tornDownAfterAFailingItem() async throws {
        let log = PooledConnectionLog()
        let flow = op.map(using: { log.open() }, teardown: { log.close($0) }) { (c: PooledConnection, x: Int) async throws -> Int in
            await log.created.wait(atLeast: 4)   // every worker holds its connection before the failure
            if x == 7 { throw PoolBoom() }
            return c.query(x)
        }.workers(4).named("lookup")
        let failure = await #expect(throws: StageFailure.self) { try await flow(0..<100).collect() }
        #expect(failure?.stage == "lookup")
        #expect(failure?.item as? Int == 7)
        #expect(failure?.underlying is PoolBoom)
        #expect(log.created.value == 4)
        #expect(log.closed.all.map(\.id).sorted() == [1, 2, 3, 4])
    }

    @Test func tornDownOnCancellation() async throws {
        let log = PooledConnectionLog()
        let entered = Counter(), never = Gate()
        let flow = op.map(using: { log.open() }, teardown: { log.close($0) }) { (c: PooledConnection, x: Int) async throws -> Int in
            entered.increment()
            try await never.wait()
            return c.query(x)
        }.workers(3)
        try await withDeadline {
            let run = Task { try await flow(0..<100).collect() }
            await entered.wait(atLeast: 3)
            run.cancel()
            let result = await run.result
            #expect(throws: CancellationError.self) { try result.get() }
        }
        #expect(log.created.value == 3)
        #expect(log.closed.all.map(\.id).sorted() == [1, 2, 3])
    }

    @Test func aFailingCreationFailsTheRunNamingTheStage() async throws {
        let created = Counter(), closed = Counter()
        let flow = op.map(using: { () async throws -> PooledConnection in
            let n = created.increment()
            if n == 2 { throw PoolBoom() }
            return PooledConnection(id: n)
        }, teardown: { _ in closed.increment() }) { (c: PooledConnection, x: Int) in c.query(x) }
            .workers(3).named("connect")
        let failure = await #expect(throws: StageFailure.self) { try await flow(0..<100).collect() }
        #expect(failure?.stage == "connect")
        #expect(failure?.item == nil)
        #expect(failure?.underlying is PoolBoom)
        // Every connection that was opened was closed; the failed one was never opened.
        #expect(closed.value == created.value - 1)
    }

    @Test func aRunCancelledBeforeItStartsOpensNothing() async throws {
        let log = PooledConnectionLog()
        let flow = op.map(using: { log.open() }, teardown: { log.close($0) }) { (c: PooledConnection, x: Int) in c.query(x) }
            .workers(3)
        let run = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await flow(0..<10).collect()
        }
        let result = await run.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(log.created.value == 0)
        #expect(log.closed.all.isEmpty)
    }

    @Test func aWorkerWithNoItemsStillOpensAndClosesItsResource() async throws {
        let log = PooledConnectionLog()
        let flow = op.map(using: { log.open() }, teardown: { log.close($0) }) { (c: PooledConnection, x: Int) in c.query(x) }
            .workers(3)
        #expect(try await flow([Int]()).collect() == [])
        #expect(log.created.value == 3)
        #expect(log.closed.all.count == 3)
    }

    @Test func theBuilderComponentIsTheSameStage() async throws {
        let log = PooledConnectionLog()
        let flow = Flow<Int, String> {
            Map(using: { log.open() }, teardown: { log.close($0) }) { c, x in c.query(x) }.workers(2)
            Map { (x: Int) in String(x) }
        }
        #expect(try await flow([1, 2, 3]).collect() == ["10", "20", "30"])
        #expect(flow.stages.map(\.kind) == ["map", "map"])
        #expect(log.created.value == 2)
        #expect(log.closed.all.count == 2)
        // Without a teardown: nothing to close, nothing leaks.
        let plain = Flow<Int, Int> { Map(using: { PooledConnection(id: 0) }) { c, x in c.query(x) } }
        #expect(try await plain([4]).collect() == [40])
    }

    @Test func composesWithRetryAndTimeout() async throws {
        // The policies wrap the stage's body; the resource still belongs to the worker.
        let log = PooledConnectionLog(), failedOnce = Counter()
        let flow = op.map(using: { log.open() }, teardown: { log.close($0) }) { (c: PooledConnection, x: Int) throws -> Int in
            if x == 3 && failedOnce.increment() == 1 { throw PoolBoom() }
            return c.query(x)
        }.timeout(.seconds(30)).retry(.attempts(2)).workers(2)
        #expect(try await flow(0..<10).collect() == (0..<10).map { $0 * 10 })
        #expect(log.created.value == 2)
        #expect(log.closed.all.map(\.id).sorted() == [1, 2])
        #expect(log.closed.all.map(\.used).reduce(0, +) == 10)
    }

    @Test func resourcesOnABlockingPool() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let log = PooledConnectionLog(), lifecycleOnPool = Recorder<Bool>()
        let flow = op.map(using: { () -> PooledConnection in
            lifecycleOnPool.record(pool.core.ownsCurrentThread)
            return log.open()
        }, teardown: {
            lifecycleOnPool.record(pool.core.ownsCurrentThread)
            log.close($0)
        }) { (c: PooledConnection, x: Int) in
            (c.query(x), pool.core.ownsCurrentThread)
        }.workers(4).blocking(on: pool)
        let out = try await flow(0..<40).collect()
        #expect(out.map(\.0) == (0..<40).map { $0 * 10 })
        #expect(out.allSatisfy { $0.1 })
        #expect(log.created.value == 4)
        #expect(log.closed.all.count == 4)
        // Creation and teardown run on the pool too: a blocking connect or close is fine there.
        #expect(lifecycleOnPool.all == Array(repeating: true, count: 8))
    }
}
