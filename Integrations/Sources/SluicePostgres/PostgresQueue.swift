// A durable work queue on one PostgreSQL table, through postgres-nio: enqueue in batches, claim with
// `FOR UPDATE SKIP LOCKED` and a lease, mark done, fail with backoff and dead-lettering. Every time
// is the server's `now()`, so consumers on machines with different clocks agree.
import Foundation
import Logging
import PostgresNIO

/// A job claimed from a ``PostgresQueue``: its id (the row's primary key, what is acknowledged and
/// what an idempotent sink keys on), the job, and how often it failed and was delivered before.
///
/// ```swift
/// for job in try await queue.claim(batch: 10, lease: .seconds(30)) {
///     print(job.id, job.job, "failed before:", job.attempts)
/// }
/// ```
public struct QueuedJob<Job: Sendable>: Sendable {
    /// The row's id: unique and stable across redeliveries.
    public var id: Int64
    /// The job as enqueued.
    public var job: Job
    /// How many times the job failed before this delivery.
    public var attempts: Int
    /// How many times the job was claimed, this delivery included (more than `attempts + 1` when a
    /// consumer died or its lease ran out while it held the job).
    public var deliveries: Int

    /// A claimed job (the queue makes these; tests may too).
    ///
    /// ```swift
    /// let job = QueuedJob(id: 1, job: "hello", attempts: 0, deliveries: 1)
    /// ```
    public init(id: Int64, job: Job, attempts: Int, deliveries: Int) {
        self.id = id
        self.job = job
        self.attempts = attempts
        self.deliveries = deliveries
    }
}

/// How many jobs of a ``PostgresQueue`` are in each state.
///
/// ```swift
/// let counts = try await queue.counts()
/// print(counts.ready, counts.leased, counts.done, counts.dead)
/// ```
public struct PostgresQueueCounts: Sendable, Hashable, CustomStringConvertible {
    /// Waiting to be claimed (including jobs waiting out a backoff, and jobs whose lease ran out).
    public var ready: Int
    /// Claimed, with a lease that has not run out yet.
    public var leased: Int
    /// Acknowledged as completed.
    public var done: Int
    /// Dead-lettered after `maxAttempts` failures.
    public var dead: Int

    /// Counts (the queue makes these).
    ///
    /// ```swift
    /// let empty = PostgresQueueCounts(ready: 0, leased: 0, done: 0, dead: 0)
    /// ```
    public init(ready: Int, leased: Int, done: Int, dead: Int) {
        self.ready = ready
        self.leased = leased
        self.done = done
        self.dead = dead
    }

    /// Every job of the table.
    ///
    /// ```swift
    /// #expect(try await queue.counts().total == 100)
    /// ```
    public var total: Int { ready + leased + done + dead }

    /// `ready 3, leased 2, done 95, dead 0`.
    public var description: String { "ready \(ready), leased \(leased), done \(done), dead \(dead)" }
}

/// A dead-lettered job: its id, the failures it had and the text of the last one.
///
/// ```swift
/// for letter in try await queue.deadLetters() { print(letter.id, letter.lastError) }
/// ```
public struct DeadLetter: Sendable, Hashable {
    /// The job's id.
    public var id: Int64
    /// Failures recorded (`maxAttempts` at the time it was dead-lettered).
    public var attempts: Int
    /// The last failure's text: for a pipeline's failure, the `StageFailure` description.
    public var lastError: String

    /// A dead letter (the queue makes these; tests compare with them).
    ///
    /// ```swift
    /// #expect(try await queue.deadLetters() == [DeadLetter(id: 7, attempts: 3, lastError: "timeout")])
    /// ```
    public init(id: Int64, attempts: Int, lastError: String) {
        self.id = id
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// A durable work queue on a PostgreSQL table, shared by any number of consumers (processes,
/// machines).
///
/// Each row is a job (its payload is the job's JSON, in a `jsonb` column). A consumer *claims* a batch
/// with `FOR UPDATE SKIP LOCKED` — concurrent consumers never wait for each other nor get the same
/// row — and holds it for a *lease*; it then marks each job *done* or *failed*. A failed job is
/// claimable again after a backoff, and dead-lettered after `maxAttempts` failures with its last
/// failure text. A job whose lease runs out (its consumer died or stalled) is claimable again:
/// delivery is at-least-once, so what the jobs write must be idempotent (see
/// ``PostgresIdempotentInsert``).
///
/// ```swift
/// let queue = try PostgresQueue<Email>(client: client, configuration: .init(table: "emails"))
/// try await queue.createSchema()
/// try await queue.enqueue([Email(to: "a@example.com")])
/// let jobs = try await queue.claim(batch: 100, lease: .seconds(30))
/// try await queue.complete(jobs.map(\.id))
/// ```
///
/// As a Sluice source, with acknowledgements: ``pipeline(batch:lease:pollInterval:stopWhenDrained:maxAckBatch:)``.
public struct PostgresQueue<Job: Codable & Sendable>: Sendable {
    /// The client every query goes through; `run()` it in a task group (or a `ServiceGroup`).
    public let client: PostgresClient
    /// The validated configuration.
    public let configuration: PostgresQueueConfiguration
    /// This consumer's name, stored on the rows it claims (`lease_owner`): a failure is recorded
    /// only by the consumer that holds the job. Unique per process by default.
    public let consumer: String
    let logger: Logger

    /// A queue on `configuration.table`.
    ///
    /// ```swift
    /// let queue = try PostgresQueue<Int>(client: client, configuration: .init(table: "numbers"))
    /// ```
    ///
    /// - Parameters:
    ///   - client: The postgres-nio client (it must be running).
    ///   - configuration: Table, retries, backoff; checked here.
    ///   - consumer: This consumer's name; `nil` (the default) for ``defaultConsumerName()``: host,
    ///     process id and a random suffix.
    ///   - logger: Where postgres-nio logs the queue's queries.
    /// - Throws: ``PostgresQueueError`` for an invalid configuration value or an empty `consumer`.
    public init(
        client: PostgresClient,
        configuration: PostgresQueueConfiguration = .init(),
        consumer: String? = nil,
        logger: Logger = Logger(label: "sluice.postgres.queue")
    ) throws {
        let consumer = consumer ?? Self.defaultConsumerName()
        guard !consumer.isEmpty else { throw PostgresQueueError("consumer must not be empty, got \"\"") }
        self.client = client
        self.configuration = try configuration.validated()
        self.consumer = consumer
        self.logger = logger
    }

    /// `host:pid:random`, unique per process and per call.
    ///
    /// ```swift
    /// print(PostgresQueue<Int>.defaultConsumerName())   // worker-3:4182:9F2C41
    /// ```
    public static func defaultConsumerName() -> String {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16, uppercase: true)
        return "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(suffix)"
    }

    var table: String { configuration.table }

    // MARK: Schema

    /// Creates the jobs table and its index if they do not exist (safe to call from every consumer
    /// at start-up).
    ///
    /// ```swift
    /// try await queue.createSchema()
    /// ```
    public func createSchema() async throws {
        let index = SQLIdentifier.flattened(table) + "_claimable"
        // One transaction: concurrent first starts serialise on the advisory lock instead of racing
        // on the catalog (CREATE … IF NOT EXISTS is not safe against a concurrent CREATE).
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(table)))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS \(unescaped: table) (
                    id            BIGSERIAL PRIMARY KEY,
                    payload       JSONB NOT NULL,
                    status        TEXT NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'done', 'dead')),
                    attempts      INTEGER NOT NULL DEFAULT 0,
                    deliveries    INTEGER NOT NULL DEFAULT 0,
                    available_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                    leased_until  TIMESTAMPTZ,
                    lease_owner   TEXT,
                    last_error    TEXT,
                    enqueued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                    finished_at   TIMESTAMPTZ
                )
                """, logger: logger)
            try await connection.query(
                "CREATE INDEX IF NOT EXISTS \(unescaped: index) ON \(unescaped: table) (id) WHERE status = 'ready'",
                logger: logger)
        }
    }

    // MARK: Producing

    /// Adds jobs, `configuration.enqueueChunk` per statement, and returns their ids in order.
    ///
    /// ```swift
    /// let ids = try await queue.enqueue((1...10_000).map { Job(n: $0) })
    /// ```
    ///
    /// - Parameters:
    ///   - jobs: The jobs; each is stored as its JSON.
    ///   - delay: Jobs become claimable after this long (server time); zero by default.
    /// - Returns: The new rows' ids, in the order of `jobs`.
    @discardableResult
    public func enqueue(_ jobs: some Sequence<Job>, delay: Duration = .zero) async throws -> [Int64] {
        let encoder = JSONEncoder()
        let payloads = try jobs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        var ids: [Int64] = []
        ids.reserveCapacity(payloads.count)
        var start = 0
        while start < payloads.count {
            let chunk = Array(payloads[start..<min(start + configuration.enqueueChunk, payloads.count)])
            // WITH ORDINALITY + ORDER BY: ids follow the input order.
            let rows = try await client.query("""
                INSERT INTO \(unescaped: table) (payload, available_at)
                SELECT p.payload::jsonb, now() + make_interval(secs => \(delay.seconds))
                FROM unnest(\(chunk)::text[]) WITH ORDINALITY AS p(payload, n)
                ORDER BY p.n
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            start += chunk.count
        }
        return ids
    }

    // MARK: Consuming

    /// Claims up to `batch` claimable jobs for `lease`, oldest first, skipping rows other consumers
    /// are claiming at the same moment.
    ///
    /// A job is claimable when it is ready, its backoff (or enqueue delay) has passed, and it has no
    /// lease or its lease ran out. Complete or fail each claimed job before the lease runs out, or
    /// another consumer may claim it too.
    ///
    /// ```swift
    /// let jobs = try await queue.claim(batch: 100, lease: .seconds(30))
    /// ```
    ///
    /// - Parameters:
    ///   - batch: At most this many jobs; at least 1.
    ///   - lease: How long the jobs are this consumer's; more than zero.
    /// - Returns: The claimed jobs by id, maybe none.
    /// - Throws: ``PostgresQueueError`` for an invalid parameter or a payload that does not decode as `Job`.
    public func claim(batch: Int, lease: Duration) async throws -> [QueuedJob<Job>] {
        guard batch >= 1 else { throw PostgresQueueError("batch must be >= 1, got \(batch)") }
        guard lease > .zero else { throw PostgresQueueError("lease must be > 0, got \(lease)") }
        let rows = try await client.query("""
            WITH picked AS (
                SELECT id FROM \(unescaped: table)
                WHERE status = 'ready' AND available_at <= now()
                  AND (leased_until IS NULL OR leased_until <= now())
                ORDER BY id
                LIMIT \(batch)
                FOR UPDATE SKIP LOCKED
            )
            UPDATE \(unescaped: table) AS q
            SET leased_until = now() + make_interval(secs => \(lease.seconds)),
                lease_owner = \(consumer),
                deliveries = q.deliveries + 1
            FROM picked WHERE q.id = picked.id
            RETURNING q.id, q.payload::text, q.attempts, q.deliveries
            """, logger: logger)
        let decoder = JSONDecoder()
        var jobs: [QueuedJob<Job>] = []
        for try await (id, payload, attempts, deliveries) in rows.decode((Int64, String, Int32, Int32).self) {
            let job: Job
            do {
                job = try decoder.decode(Job.self, from: Data(payload.utf8))
            } catch {
                throw PostgresQueueError("job \(id) in \(table): payload does not decode as \(Job.self): \(error)")
            }
            jobs.append(QueuedJob(id: id, job: job, attempts: Int(attempts), deliveries: Int(deliveries)))
        }
        return jobs.sorted { $0.id < $1.id }
    }

    /// Marks jobs done (by any consumer: a job completed after its lease ran out is still done).
    ///
    /// ```swift
    /// try await queue.complete(jobs.map(\.id))
    /// ```
    ///
    /// - Parameter ids: The jobs' ids; ids already done or dead are left as they are.
    /// - Returns: How many jobs this call marked done.
    @discardableResult
    public func complete(_ ids: [Int64]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await count(client.query("""
            UPDATE \(unescaped: table)
            SET status = 'done', finished_at = now(), leased_until = NULL
            WHERE id = ANY(\(ids)::bigint[]) AND status = 'ready'
            RETURNING id
            """, logger: logger))
    }

    /// Records a failure of each job this consumer holds: its attempt count goes up, its failure text
    /// is kept, and it is claimable again after the backoff — or dead-lettered if this was its
    /// `maxAttempts`-th failure.
    ///
    /// A job another consumer has claimed since (this consumer's lease ran out) is left alone.
    ///
    /// ```swift
    /// try await queue.fail([(id: job.id, reason: "\(error)")])
    /// ```
    ///
    /// - Parameter failures: Each job's id and the text to keep (`last_error`).
    /// - Returns: How many jobs went back to ready and how many were dead-lettered.
    @discardableResult
    public func fail(_ failures: [(id: Int64, reason: String)]) async throws -> (retried: Int, dead: Int) {
        guard !failures.isEmpty else { return (0, 0) }
        let ids = failures.map(\.id), reasons = failures.map(\.reason)
        let rows = try await client.query("""
            UPDATE \(unescaped: table) AS q
            SET attempts = q.attempts + 1,
                last_error = f.reason,
                status = CASE WHEN q.attempts + 1 >= \(configuration.maxAttempts) THEN 'dead' ELSE 'ready' END,
                finished_at = CASE WHEN q.attempts + 1 >= \(configuration.maxAttempts) THEN now() END,
                available_at = now() + make_interval(secs => least(
                    \(configuration.backoff.seconds) * power(2, q.attempts), \(configuration.maxBackoff.seconds))),
                leased_until = NULL
            FROM unnest(\(ids)::bigint[], \(reasons)::text[]) AS f(id, reason)
            WHERE q.id = f.id AND q.status = 'ready' AND q.lease_owner = \(consumer)
            RETURNING q.status
            """, logger: logger)
        var retried = 0, dead = 0
        for try await status in rows.decode(String.self) {
            if status == "dead" { dead += 1 } else { retried += 1 }
        }
        return (retried, dead)
    }

    /// Gives jobs back without counting a failure: claimable again at once (for a consumer that stops
    /// before processing what it claimed).
    ///
    /// ```swift
    /// try await queue.release(unprocessed.map(\.id))
    /// ```
    ///
    /// - Parameter ids: Jobs this consumer holds; others are left alone.
    /// - Returns: How many jobs were released.
    @discardableResult
    public func release(_ ids: [Int64]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await count(client.query("""
            UPDATE \(unescaped: table) SET leased_until = NULL
            WHERE id = ANY(\(ids)::bigint[]) AND status = 'ready' AND lease_owner = \(consumer)
            RETURNING id
            """, logger: logger))
    }

    // MARK: Inspecting

    /// The number of jobs in each state, now.
    ///
    /// ```swift
    /// print(try await queue.counts())   // ready 10, leased 2, done 88, dead 0
    /// ```
    public func counts() async throws -> PostgresQueueCounts {
        let rows = try await client.query("""
            SELECT count(*) FILTER (WHERE status = 'ready' AND (leased_until IS NULL OR leased_until <= now())),
                   count(*) FILTER (WHERE status = 'ready' AND leased_until > now()),
                   count(*) FILTER (WHERE status = 'done'),
                   count(*) FILTER (WHERE status = 'dead')
            FROM \(unescaped: table)
            """, logger: logger)
        for try await (ready, leased, done, dead) in rows.decode((Int64, Int64, Int64, Int64).self) {
            return PostgresQueueCounts(ready: Int(ready), leased: Int(leased), done: Int(done), dead: Int(dead))
        }
        throw PostgresQueueError("counts: no row from \(table)")
    }

    /// Whether every job is done or dead: none is ready, waiting out a backoff, or leased (by any
    /// consumer, this one included: a leased job may still fail and come back).
    ///
    /// ```swift
    /// if try await queue.isDrained() { print("all done") }
    /// ```
    public func isDrained() async throws -> Bool {
        let rows = try await client.query(
            "SELECT NOT EXISTS (SELECT 1 FROM \(unescaped: table) WHERE status = 'ready')", logger: logger)
        for try await drained in rows.decode(Bool.self) { return drained }
        return false
    }

    /// Dead-lettered jobs, oldest first.
    ///
    /// ```swift
    /// for letter in try await queue.deadLetters(limit: 10) { print(letter.id, letter.lastError) }
    /// ```
    ///
    /// - Parameter limit: At most this many; at least 1.
    public func deadLetters(limit: Int = 100) async throws -> [DeadLetter] {
        guard limit >= 1 else { throw PostgresQueueError("limit must be >= 1, got \(limit)") }
        let rows = try await client.query("""
            SELECT id, attempts, coalesce(last_error, '') FROM \(unescaped: table)
            WHERE status = 'dead' ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var letters: [DeadLetter] = []
        for try await (id, attempts, error) in rows.decode((Int64, Int32, String).self) {
            letters.append(DeadLetter(id: id, attempts: Int(attempts), lastError: error))
        }
        return letters
    }

    private func count(_ rows: PostgresRowSequence) async throws -> Int {
        var n = 0
        for try await _ in rows { n += 1 }
        return n
    }
}
