// sluice-worker: one pipeline over the PostgreSQL queue — claim → process → idempotent insert into a
// results table → acknowledge. Run several (on several machines, or several processes here) against
// the same database to share the work; kill one and the others take its jobs when its leases run out.
//
//   sluice-worker setup                       # create the jobs and results tables (idempotent)
//   sluice-worker enqueue 100000              # add jobs 1…100000
//   sluice-worker run --drain                 # process until nothing is left (a batch job), or
//   sluice-worker run                         # … for ever, until SIGTERM/SIGINT (graceful stop)
//   sluice-worker check 100000                # every job done exactly once? exits 1 if not
//
// Connection: SLUICE_PGHOST/SLUICE_PGPORT/SLUICE_PGUSER/SLUICE_PGDATABASE (or the PG… variables),
// password in SLUICE_PGPASSWORD/PGPASSWORD. Options: see `usage` below.
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Sluice
import SluicePostgres
import SluiceServiceLifecycle
import Synchronization

let usage = """
    usage: sluice-worker setup|enqueue N|run|check N [options]
      --jobs TABLE        jobs table (default sluice_worker_jobs)
      --results TABLE     results table (default sluice_worker_results)
      --batch N           jobs per claim (default 64)
      --lease SECONDS     lease per claimed job (default 30)
      --workers N         concurrent workers of the process stage (default 2)
      --insert-batch N    results per INSERT (default 256)
      --work N            rounds of CPU work per job (default 2000)
      --drain             run: stop when no job is left (otherwise run until SIGTERM/SIGINT)
      --stop-deadline S   run: after SIGTERM/SIGINT, how long the jobs already read may take (default 30)
      --name NAME         this worker's name in the results table (default host:pid)
      --progress          run: print a progress line to stderr every second
    """

/// A job: just a number; the work is a deterministic function of it, so `check` can verify results.
struct WorkerJob: Codable, Sendable {
    var n: Int64
}

/// One result row, keyed by the job's id: a redelivered job writes the same key again, skipped.
struct ResultRow: Sendable {
    var jobID: Int64
    var n: Int64
    var value: Int64
    var worker: String
}

/// `rounds` steps of xorshift from `n`: CPU work whose result is known.
func compute(_ n: Int64, rounds: Int) -> Int64 {
    var x = UInt64(bitPattern: n) &* 0x9E37_79B9_7F4A_7C15 | 1
    for _ in 0..<rounds {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
    }
    return Int64(bitPattern: x >> 1)
}

struct Options {
    var command = ""
    var count = 0
    var jobs = "sluice_worker_jobs"
    var results = "sluice_worker_results"
    var batch = 64
    var lease = 30.0
    var stopDeadline = 30.0
    var workers = 2
    var insertBatch = 256
    var work = 2_000
    var drain = false
    var name = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    var progress = false

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw PostgresQueueError("\(flag) needs a value\n\(usage)") }
            return v
        }
        func int(_ flag: String, _ range: ClosedRange<Int>) throws -> Int {
            let text = try value(flag)
            guard let v = Int(text), range.contains(v) else {
                throw PostgresQueueError("\(flag) must be an integer in \(range), got \"\(text)\"")
            }
            return v
        }
        func seconds(_ flag: String) throws -> Double {
            let text = try value(flag)
            guard let v = Double(text), v > 0, v.isFinite else {
                throw PostgresQueueError("\(flag) must be a number of seconds > 0, got \"\(text)\"")
            }
            return v
        }
        guard let command = rest.popFirst() else { throw PostgresQueueError(usage) }
        self.command = command
        if command == "enqueue" || command == "check" { count = try int(command, 0...100_000_000) }
        while let flag = rest.popFirst() {
            switch flag {
            case "--jobs": jobs = try value(flag)
            case "--results": results = try value(flag)
            case "--batch": batch = try int(flag, 1...100_000)
            case "--lease": lease = try seconds(flag)
            case "--stop-deadline": stopDeadline = try seconds(flag)
            case "--workers": workers = try int(flag, 1...1_024)
            case "--insert-batch": insertBatch = try int(flag, 1...10_000)
            case "--work": work = try int(flag, 0...100_000_000)
            case "--drain": drain = true
            case "--name": name = try value(flag)
            case "--progress": progress = true
            default: throw PostgresQueueError("unknown option \"\(flag)\"\n\(usage)")
            }
        }
        guard ["setup", "enqueue", "run", "check"].contains(command) else {
            throw PostgresQueueError("unknown command \"\(command)\"\n\(usage)")
        }
    }
}

func clientConfiguration() throws -> PostgresClient.Configuration {
    let env = ProcessInfo.processInfo.environment
    func setting(_ name: String) -> String? { env["SLUICE_PG\(name)"] ?? env["PG\(name)"] }
    let portText = setting("PORT") ?? "5432"
    guard let port = Int(portText), (1...65_535).contains(port) else {
        throw PostgresQueueError("SLUICE_PGPORT/PGPORT must be a port number, got \"\(portText)\"")
    }
    var configuration = PostgresClient.Configuration(
        host: setting("HOST") ?? "127.0.0.1", port: port, username: setting("USER") ?? "postgres",
        password: setting("PASSWORD"), database: setting("DATABASE"), tls: .disable)
    configuration.options.maximumConnections = 8
    return configuration
}

func createResultsTable(_ client: PostgresClient, _ table: String) async throws {
    try await client.query("""
        CREATE TABLE IF NOT EXISTS \(unescaped: table) (
            job_id      BIGINT PRIMARY KEY,
            n           BIGINT NOT NULL,
            value       BIGINT NOT NULL,
            worker      TEXT NOT NULL,
            written_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """)
}

func runWorker(_ options: Options, _ client: PostgresClient, _ queue: PostgresQueue<WorkerJob>, logger: Logger) async throws {
    let sink = try PostgresIdempotentInsert<ResultRow>(
        client: client, table: options.results, columns: ["job_id", "n", "value", "worker"], conflictColumns: ["job_id"]
    ) { row, binds in
        binds.append(row.jobID)
        binds.append(row.n)
        binds.append(row.value)
        binds.append(row.worker)
    }
    let rounds = options.work, name = options.name
    let processed = Atomic<Int>(0)
    let pipeline = try queue.pipeline(batch: options.batch, lease: .seconds(options.lease), stopWhenDrained: options.drain)
        | op.map { (job: QueuedJob<WorkerJob>) in
            ResultRow(jobID: job.id, n: job.job.n, value: compute(job.job.n, rounds: rounds), worker: name)
        }.workers(options.workers).named("process")
        | op.batch(options.insertBatch, within: .milliseconds(20))
        | sink.flow
        | op.forEach { (rows: [ResultRow]) in processed.add(rows.count, ordering: .relaxed) }
    let measured = options.progress
        ? pipeline.metrics(PipelineMetrics(progressEvery: .seconds(1)) { snapshot in
            FileHandle.standardError.write(Data("[\(name)] \(snapshot.progressLine)\n".utf8))
        })
        : pipeline

    let service = PipelineService(name: "sluice-worker", stopDeadline: .seconds(options.stopDeadline), measured)
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(
        services: [
            .init(service: client),   // started first, stopped last
            .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    let start = ContinuousClock.now
    try await group.run()
    let elapsed = ContinuousClock.now - start
    let count = processed.load(ordering: .relaxed)
    let seconds = elapsed.components.seconds > 0 || elapsed.components.attoseconds > 0
        ? Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 : 1
    print("worker \(name): \(count) jobs in \(String(format: "%.2f", seconds)) s (\(Int(Double(count) / seconds)) jobs/s)")
}

/// Runs `body` with a running client (for the short commands), then shuts it down.
func withClient(_ logger: Logger, _ body: @Sendable @escaping (PostgresClient) async throws -> Void) async throws {
    // Errors only in the background: the first query may race the pool's start and log a warning.
    var background = logger
    background.logLevel = .error
    let client = PostgresClient(configuration: try clientConfiguration(), backgroundLogger: background)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        try await body(client)
    }
}

func check(_ options: Options, _ queue: PostgresQueue<WorkerJob>, _ client: PostgresClient) async throws -> Bool {
    let counts = try await queue.counts()
    let rows = try await client.query("""
        SELECT count(*), count(DISTINCT r.job_id),
               count(*) FILTER (WHERE q.id IS NULL),
               count(*) FILTER (WHERE q.payload->>'n' IS DISTINCT FROM r.n::text),
               (SELECT count(*) FROM \(unescaped: options.jobs) j
                WHERE NOT EXISTS (SELECT 1 FROM \(unescaped: options.results) x WHERE x.job_id = j.id)),
               (SELECT count(*) FROM \(unescaped: options.jobs) WHERE deliveries > 1)
        FROM \(unescaped: options.results) r LEFT JOIN \(unescaped: options.jobs) q ON q.id = r.job_id
        """)
    var ok = false
    for try await (results, distinct, orphans, mismatched, missing, redelivered) in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64).self) {
        print("jobs: \(counts); results: \(results) rows, \(distinct) distinct jobs, \(missing) jobs without a result, "
              + "\(orphans) results without a job, \(mismatched) for the wrong job; \(redelivered) jobs delivered more than once")
        ok = counts == PostgresQueueCounts(ready: 0, leased: 0, done: options.count, dead: 0)
            && results == options.count && distinct == options.count && missing == 0 && orphans == 0 && mismatched == 0
    }
    return ok
}

@main
struct SluiceWorker {
    static func main() async {
        let logger = {
            var logger = Logger(label: "sluice-worker")
            logger.logLevel = .warning
            return logger
        }()
        do {
            let options = try Options(Array(CommandLine.arguments.dropFirst()))
            switch options.command {
            case "run":
                let client = PostgresClient(configuration: try clientConfiguration(), backgroundLogger: logger)
                let queue = try PostgresQueue<WorkerJob>(client: client, configuration: .init(table: options.jobs), logger: logger)
                try await runWorker(options, client, queue, logger: logger)
            default:
                let failed = Atomic<Bool>(false)
                try await withClient(logger) { client in
                    let queue = try PostgresQueue<WorkerJob>(client: client, configuration: .init(table: options.jobs), logger: logger)
                    switch options.command {
                    case "setup":
                        try await queue.createSchema()
                        try await createResultsTable(client, options.results)
                    case "enqueue":
                        let ids = try await queue.enqueue((1...max(options.count, 1)).prefix(options.count).map { WorkerJob(n: Int64($0)) })
                        print("enqueued \(ids.count) jobs")
                    default:
                        failed.store(try await !check(options, queue, client), ordering: .relaxed)
                    }
                }
                if failed.load(ordering: .relaxed) { exit(1) }
            }
        } catch {
            FileHandle.standardError.write(Data("sluice-worker: \(error)\n".utf8))
            exit(2)
        }
    }
}
