// The queue against a real PostgreSQL: claim, complete, fail, backoff, dead-letter, lease expiry.
import PostgresNIO
import SluicePostgres
import Testing

struct Task42: Codable, Sendable, Equatable {
    var n: Int
    var label: String
}

@Suite("PostgreSQL queue", .enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
struct PostgresQueueTests {
    func makeQueue(
        _ client: PostgresClient, maxAttempts: Int = 3, backoff: Duration = .zero, consumer: String? = nil
    ) async throws -> PostgresQueue<Task42> {
        let queue = try PostgresQueue<Task42>(
            client: client,
            configuration: .init(table: TestDatabase.uniqueTable("q"), maxAttempts: maxAttempts,
                                 backoff: backoff, maxBackoff: max(backoff, .seconds(1)), enqueueChunk: 7),
            consumer: consumer)
        try await queue.createSchema()
        return queue
    }

    @Test func enqueueThenClaimReturnsJobsInOrderAndLeasesThem() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)
            try await queue.createSchema()   // idempotent
            let ids = try await queue.enqueue((1...20).map { Task42(n: $0, label: "job \($0)") })
            #expect(ids.count == 20)
            #expect(ids == ids.sorted())

            let first = try await queue.claim(batch: 8, lease: .seconds(60))
            #expect(first.map(\.id) == Array(ids[0..<8]))
            #expect(first.map(\.job.n) == Array(1...8))
            #expect(first.allSatisfy { $0.attempts == 0 && $0.deliveries == 1 })
            #expect(try await queue.counts() == PostgresQueueCounts(ready: 12, leased: 8, done: 0, dead: 0))

            // Leased jobs are not claimed again.
            let second = try await queue.claim(batch: 100, lease: .seconds(60))
            #expect(second.map(\.job.n) == Array(9...20))
            #expect(try await queue.claim(batch: 100, lease: .seconds(60)).isEmpty)

            #expect(try await queue.complete(first.map(\.id) + second.map(\.id)) == 20)
            #expect(try await queue.complete(first.map(\.id)) == 0)   // already done
            #expect(try await queue.counts() == PostgresQueueCounts(ready: 0, leased: 0, done: 20, dead: 0))
            #expect(try await queue.isDrained())
        }
    }

    @Test func concurrentConsumersNeverClaimTheSameJob() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)
            try await queue.enqueue((1...500).map { Task42(n: $0, label: "") })
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for c in 0..<4 {
                    let consumer = try PostgresQueue<Task42>(client: client, configuration: queue.configuration, consumer: "c\(c)")
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let jobs = try await consumer.claim(batch: 13, lease: .seconds(60))
                            if jobs.isEmpty { return mine }
                            mine += jobs.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            #expect(claimed.count == 500)
            #expect(Set(claimed).count == 500)
        }
    }

    @Test func failureRetriesAfterBackoffThenDeadLettersKeepingTheText() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client, maxAttempts: 2, backoff: .zero)
            let ids = try await queue.enqueue([Task42(n: 1, label: "poison"), Task42(n: 2, label: "fine")])

            let jobs = try await queue.claim(batch: 2, lease: .seconds(60))
            let outcome = try await queue.fail([(id: ids[0], reason: "first failure")])
            #expect(outcome.retried == 1 && outcome.dead == 0)
            #expect(try await queue.complete([jobs[1].id]) == 1)

            let again = try await queue.claim(batch: 2, lease: .seconds(60))
            #expect(again.map(\.id) == [ids[0]])
            #expect(again.first?.attempts == 1)
            #expect(again.first?.deliveries == 2)
            let second = try await queue.fail([(id: ids[0], reason: "stage \"parse\" failed on item 1: bad input")])
            #expect(second.retried == 0 && second.dead == 1)

            #expect(try await queue.claim(batch: 2, lease: .seconds(60)).isEmpty)
            #expect(try await queue.counts() == PostgresQueueCounts(ready: 0, leased: 0, done: 1, dead: 1))
            let letters = try await queue.deadLetters()
            #expect(letters == [DeadLetter(id: ids[0], attempts: 2, lastError: "stage \"parse\" failed on item 1: bad input")])
        }
    }

    @Test func backoffKeepsAFailedJobAwayUntilItPasses() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client, maxAttempts: 5, backoff: .seconds(3600))
            let ids = try await queue.enqueue([Task42(n: 1, label: "")])
            _ = try await queue.claim(batch: 1, lease: .seconds(60))
            try await queue.fail([(id: ids[0], reason: "try later")])
            #expect(try await queue.claim(batch: 1, lease: .seconds(60)).isEmpty)
            #expect(try await queue.counts().ready == 1)
            #expect(try await !queue.isDrained())   // waiting out a backoff is not drained

            // The delay is backoff × 2^(attempts−1): an hour for the first failure.
            let rows = try await client.query(
                "SELECT extract(epoch FROM available_at - now())::float8 FROM \(unescaped: queue.configuration.table)")
            for try await seconds in rows.decode(Double.self) {
                #expect((3590...3600).contains(seconds))
            }
        }
    }

    @Test func onlyTheConsumerHoldingAJobRecordsItsFailure() async throws {
        try await TestDatabase.withClient { client in
            let a = try await makeQueue(client, consumer: "a")
            let b = try PostgresQueue<Task42>(client: client, configuration: a.configuration, consumer: "b")
            let ids = try await a.enqueue([Task42(n: 1, label: "")])
            _ = try await a.claim(batch: 1, lease: .seconds(60))
            let notMine = try await b.fail([(id: ids[0], reason: "not mine")])
            #expect(notMine.retried == 0 && notMine.dead == 0)
            #expect(try await b.release(ids) == 0)
            #expect(try await a.release(ids) == 1)
            #expect(try await b.claim(batch: 1, lease: .seconds(60)).map(\.id) == ids)
        }
    }

    @Test func anExpiredLeaseReturnsAJobFromADeadConsumer() async throws {
        try await TestDatabase.withClient { client in
            let dead = try await makeQueue(client, consumer: "dead")
            let alive = try PostgresQueue<Task42>(client: client, configuration: dead.configuration, consumer: "alive")
            let ids = try await dead.enqueue((1...5).map { Task42(n: $0, label: "") })

            // "dead" claims everything with a short lease and never acknowledges.
            #expect(try await dead.claim(batch: 5, lease: .seconds(2)).count == 5)
            #expect(try await alive.claim(batch: 5, lease: .seconds(60)).isEmpty)
            #expect(try await !alive.isDrained())   // another consumer's lease: wait for it

            var reclaimed: [QueuedJob<Task42>] = []
            try await waitUntil("the dead consumer's lease runs out", timeout: .seconds(30)) {
                reclaimed += try await alive.claim(batch: 5, lease: .seconds(60))
                return reclaimed.count == 5
            }
            #expect(reclaimed.map(\.id) == ids)
            #expect(reclaimed.allSatisfy { $0.deliveries == 2 && $0.attempts == 0 })

            // The dead consumer can no longer fail them; completing is still fine (at-least-once).
            let late = try await dead.fail(ids.map { (id: $0, reason: "late") })
            #expect(late.retried == 0 && late.dead == 0)
            #expect(try await alive.complete(ids) == 5)
            #expect(try await alive.isDrained())
        }
    }

    @Test func enqueueDelayHoldsJobsBack() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)
            try await queue.enqueue([Task42(n: 1, label: "later")], delay: .seconds(3600))
            #expect(try await queue.claim(batch: 1, lease: .seconds(1)).isEmpty)
            #expect(try await queue.counts().ready == 1)
        }
    }

    @Test func aPayloadOfAnotherShapeIsAClearError() async throws {
        try await TestDatabase.withClient { client in
            let queue = try await makeQueue(client)
            try await queue.enqueue([Task42(n: 1, label: "x")])
            let wrong = try PostgresQueue<[String]>(client: client, configuration: queue.configuration)
            let error = await #expect(throws: PostgresQueueError.self) {
                _ = try await wrong.claim(batch: 1, lease: .seconds(1))
            }
            #expect(error?.description.contains("does not decode as Array<String>") == true)
        }
    }
}
