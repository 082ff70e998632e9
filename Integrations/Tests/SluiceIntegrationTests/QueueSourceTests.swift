// The queue as an acknowledged Sluice source, end to end against a real PostgreSQL: completed jobs
// are done, railway failures are failed and dead-lettered with their StageFailure text, a failed run
// leaves its incomplete jobs for redelivery, and a graceful stop acknowledges what it read.
import PostgresNIO
import Sluice
import SluicePostgres
import Synchronization
import Testing

struct Bad: Error, CustomStringConvertible {
    var n: Int
    var description: String { "job \(n) is bad" }
}

@Suite("PostgreSQL queue as an acknowledged source", .enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
struct QueueSourceTests {
    func makeQueue(_ client: PostgresClient, maxAttempts: Int = 3, consumer: String? = nil) async throws -> PostgresQueue<Task42> {
        let queue = try PostgresQueue<Task42>(
            client: client, configuration: .init(table: TestDatabase.uniqueTable("src"), maxAttempts: maxAttempts, backoff: .zero),
            consumer: consumer)
        try await queue.createSchema()
        return queue
    }

    func makeSink(_ client: PostgresClient) async throws -> PostgresIdempotentInsert<Square> {
        let table = TestDatabase.uniqueTable("src_results")
        try await client.query("CREATE TABLE \(unescaped: table) (n BIGINT PRIMARY KEY, square BIGINT NOT NULL)")
        return try PostgresIdempotentInsert<Square>(client: client, table: table, columns: ["n", "square"],
                                                    conflictColumns: ["n"]) { row, binds in
            binds.append(row.n)
            binds.append(row.square)
        }
    }

    func resultCount(_ client: PostgresClient, _ sink: PostgresIdempotentInsert<Square>) async throws -> Int {
        for try await n in try await client.query("SELECT count(*) FROM \(unescaped: sink.table)").decode(Int64.self) {
            return Int(n)
        }
        return 0
    }

    static func square(_ job: QueuedJob<Task42>) -> Square {
        Square(n: job.id, square: Int64(job.job.n * job.job.n))
    }

    @Test func everyJobEndsDoneWithItsResultStored() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)
            let sink = try await makeSink(client)
            try await queue.enqueue((1...500).map { Task42(n: $0, label: "") })

            try await (try queue.pipeline(batch: 16, lease: .seconds(60), stopWhenDrained: true, maxAckBatch: 40)
                | op.map(Self.square).workers(4).unordered()
                | op.filter { (s: Square) in s.square != 49 }   // dropped by a filter: still completed
                | op.batch(50, within: .milliseconds(10))
                | sink.flow)
                .drain()

            #expect(try await queue.counts() == PostgresQueueCounts(ready: 0, leased: 0, done: 500, dead: 0))
            #expect(try await resultCount(client, sink) == 499)
        }
    }

    @Test func railwayFailuresAreRetriedThenDeadLetteredWithTheirStageFailure() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client, maxAttempts: 2)
            let ids = try await queue.enqueue((1...40).map { Task42(n: $0, label: "") })
            let attempts = Mutex<[Int: Int]>([:])

            let outcomes = Mutex<[Result<Int, StageFailure>]>([])
            try await (try queue.pipeline(batch: 8, lease: .seconds(60), pollInterval: .milliseconds(10),
                                                         stopWhenDrained: true)
                | op.tryMap { (job: QueuedJob<Task42>) throws -> Int in
                    attempts.withLock { $0[job.job.n, default: 0] += 1 }
                    if job.job.n.isMultiple(of: 10) { throw Bad(n: job.job.n) }
                    return job.job.n
                }.named("check"))
                .forEach { outcome in outcomes.withLock { $0.append(outcome) } }   // not collect(): see deliveries(…)

            #expect(outcomes.withLock { $0.count } == 44)   // 36 successes, 4 failures delivered twice each
            #expect(try await queue.counts() == PostgresQueueCounts(ready: 0, leased: 0, done: 36, dead: 4))
            #expect(attempts.withLock { $0 } == Dictionary(uniqueKeysWithValues: (1...40).map { ($0, $0.isMultiple(of: 10) ? 2 : 1) }))
            let letters = try await queue.deadLetters()
            #expect(letters.map(\.id) == [ids[9], ids[19], ids[29], ids[39]])
            #expect(letters.allSatisfy { $0.attempts == 2 })
            for (letter, n) in zip(letters, [10, 20, 30, 40]) {
                #expect(letter.lastError.contains("job \(n) is bad"), "\(letter.lastError)")
                #expect(letter.lastError.contains("check"), "the StageFailure text names the stage: \(letter.lastError)")
            }
        }
    }

    @Test func aFailedRunLeavesItsIncompleteJobsToBeDeliveredAgain() async throws {
        try await TestDatabase.withClient { client in
            let first = try await makeQueue(client, consumer: "first")
            let sink = try await makeSink(client)
            try await first.enqueue((1...200).map { Task42(n: $0, label: "") })

            // Fail-fast on job 120: the run throws; nothing after it is acknowledged as done.
            await #expect(throws: StageFailure.self) {
                try await (try first.pipeline(batch: 10, lease: .milliseconds(1_500), stopWhenDrained: true)
                    | op.map { (job: QueuedJob<Task42>) throws -> Square in
                        if job.job.n == 120 { throw Bad(n: 120) }
                        return Self.square(job)
                    }
                    | op.batch(20, within: .milliseconds(10))
                    | sink.flow)
                    .drain()
            }
            let afterFailure = try await first.counts()
            #expect(afterFailure.done < 120)
            #expect(afterFailure.dead == 0)
            #expect(afterFailure.total == 200)

            // Another consumer waits for the first one's leases to run out, then finishes everything.
            let second = try PostgresQueue<Task42>(client: client, configuration: first.configuration, consumer: "second")
            try await (try second.pipeline(batch: 10, lease: .seconds(60), pollInterval: .milliseconds(20), stopWhenDrained: true)
                | op.map(Self.square)
                | op.batch(20, within: .milliseconds(10))
                | sink.flow)
                .drain()
            #expect(try await second.counts() == PostgresQueueCounts(ready: 0, leased: 0, done: 200, dead: 0))
            #expect(try await resultCount(client, sink) == 200)
        }
    }

    @Test func anInterruptedReadReleasesTheClaimedJobsNotHandedOut() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)
            try await queue.enqueue((1...10).map { Task42(n: $0, label: "") })
            let deliveries = try queue.deliveries(batch: 10, lease: .seconds(60))
            let (read, last) = try await Task {
                var iterator = deliveries.makeAsyncIterator()
                var read: [Int] = []
                for _ in 0..<3 { if let d = try await iterator.next() { read.append(d.element.job.n) } }
                withUnsafeCurrentTask { $0?.cancel() }   // what a graceful stop does to the source's read
                return (read, try await iterator.next())
            }.value
            #expect(read == [1, 2, 3])
            #expect(last == nil)
            // The 3 handed out stay leased (the pipeline has them); the other 7 are claimable at once.
            #expect(try await queue.counts() == PostgresQueueCounts(ready: 7, leased: 3, done: 0, dead: 0))
            #expect(try await queue.claim(batch: 10, lease: .seconds(60)).map(\.job.n) == Array(4...10))
        }
    }

    @Test func aPollInterruptedByCancellationEndsTheSequence() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)   // empty: the iterator polls
            let deliveries = try queue.deliveries(batch: 10, lease: .seconds(60), pollInterval: .seconds(3_600))
            let polls = Task {
                var iterator = deliveries.makeAsyncIterator()
                return try await iterator.next()
            }
            polls.cancel()
            #expect(try await polls.value == nil)
        }
    }

    @Test func aGracefulStopAcknowledgesEverythingItRead() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client, consumer: "stopping")
            let sink = try await makeSink(client)
            try await queue.enqueue((1...5_000).map { Task42(n: $0, label: "") })
            let stop = GracefulStop()
            let processed = Atomic<Int>(0)

            let run = Task {
                try await (try queue.pipeline(batch: 25, lease: .seconds(2))   // no stopWhenDrained: only the stop ends it
                    | op.map { (job: QueuedJob<Task42>) in
                        processed.add(1, ordering: .relaxed)
                        return Self.square(job)
                    }.workers(2)
                    | op.batch(25, within: .milliseconds(5))
                    | sink.flow)
                    .withGracefulStop(stop)
                    .drain()
            }
            try await waitUntil("some results are stored") { try await resultCount(client, sink) >= 200 }
            stop.request(deadline: .seconds(30))
            try await run.value   // returns normally

            // Everything processed was stored and acknowledged; the rest is untouched or comes back.
            let counts = try await queue.counts()
            let stored = try await resultCount(client, sink)
            #expect(counts.done == stored)
            #expect(stored == processed.load(ordering: .relaxed))
            #expect(counts.done < 5_000)
            #expect(counts.total == 5_000)

            let rest = try PostgresQueue<Task42>(client: client, configuration: queue.configuration, consumer: "rest")
            try await (try rest.pipeline(batch: 100, lease: .seconds(60), pollInterval: .milliseconds(20), stopWhenDrained: true)
                | op.map(Self.square) | op.batch(100, within: .milliseconds(10)) | sink.flow).drain()
            #expect(try await rest.counts().done == 5_000)
            #expect(try await resultCount(client, sink) == 5_000)
        }
    }
}
