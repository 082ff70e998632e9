// Scale-out, demonstrated: three sluice-worker processes share one queue; one is killed with
// SIGKILL part-way, one is stopped with SIGTERM (graceful), the third finishes; every job ends done
// exactly once in the results table and none is lost. The test waits on counts read from the
// database and on the processes' exits, never on sleeps.
import Foundation
import PostgresNIO
import SluicePostgres
import Testing

/// One sluice-worker process, its output in a file.
final class WorkerProcess {
    let name: String
    let process = Process()
    let log: URL

    init(_ executable: URL, _ arguments: [String], name: String, logs: URL) throws {
        self.name = name
        log = logs.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
    }

    func start() throws { try process.run() }
    var isRunning: Bool { process.isRunning }
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits (polling the process, with a deadline) for it to exit; returns its status.
    func exit(within timeout: Duration) async throws -> Int32 {
        try await waitUntil("\(name) exits", timeout: timeout, every: .milliseconds(50)) { !process.isRunning }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The `sluice-worker` built next to this test bundle.
func workerExecutable() throws -> URL {
    let bundle = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let worker = bundle.deletingLastPathComponent().appendingPathComponent("sluice-worker")
    guard FileManager.default.isExecutableFile(atPath: worker.path) else {
        throw TimeoutError(description: "sluice-worker not found at \(worker.path): build the package first "
                           + "(swift build --package-path Integrations --build-tests)")
    }
    return worker
}

@Suite("Scale-out over PostgreSQL", .enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason), .serialized)
struct ScaleOutTests {
    /// Jobs in the test run; the measured 100,000-job runs are `scripts/measure-scaleout.sh`.
    static var jobCount: Int { Int(ProcessInfo.processInfo.environment["SLUICE_KILL_TEST_JOBS"] ?? "") ?? 20_000 }

    func resultCount(_ client: PostgresClient, _ table: String) async throws -> Int {
        for try await n in try await client.query("SELECT count(*) FROM \(unescaped: table)").decode(Int64.self) {
            return Int(n)
        }
        return 0
    }

    @Test func aKilledWorkerLosesNoJobAndNoneIsDoneTwice() async throws {
        let worker = try workerExecutable()
        let n = Self.jobCount
        let jobs = TestDatabase.uniqueTable("scale_jobs"), results = TestDatabase.uniqueTable("scale_results")
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent(TestDatabase.uniqueTable("sluice-workers"))
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: logs) }
        let tables = ["--jobs", jobs, "--results", results]

        func runToEnd(_ name: String, _ arguments: [String]) async throws -> String {
            let p = try WorkerProcess(worker, arguments + tables, name: name, logs: logs)
            try p.start()
            let status = try await p.exit(within: .seconds(120))
            #expect(status == 0, "\(name): \(p.output)")
            return p.output
        }
        _ = try await runToEnd("setup", ["setup"])
        _ = try await runToEnd("enqueue", ["enqueue", "\(n)"])

        // A short lease, so the killed worker's jobs come back quickly.
        let options = ["run", "--drain", "--lease", "2", "--batch", "64", "--workers", "2", "--work", "2000"] + tables
        let workers = try ["killed", "stopped", "finisher"].map { name in
            try WorkerProcess(worker, options + ["--name", name], name: name, logs: logs)
        }
        defer { workers.forEach { $0.signal(SIGKILL) } }
        for w in workers { try w.start() }
        let (killed, stopped, finisher) = (workers[0], workers[1], workers[2])

        try await TestDatabase.withClient { client in
            try await waitUntil("a fifth of the results are stored", timeout: .seconds(300)) {
                try await resultCount(client, results) >= n / 5
            }
            killed.signal(SIGKILL)
            #expect(try await killed.exit(within: .seconds(30)) == SIGKILL)

            try await waitUntil("half of the results are stored", timeout: .seconds(300)) {
                try await resultCount(client, results) >= n / 2
            }
            stopped.signal(SIGTERM)   // graceful: finishes and acknowledges what it read, exits 0
            #expect(try await stopped.exit(within: .seconds(60)) == 0, "\(stopped.output)")

            // The finisher drains the rest, the killed worker's leased jobs included.
            #expect(try await finisher.exit(within: .seconds(600)) == 0, "\(finisher.output)")

            let queue = try PostgresQueue<[String: Int]>(client: client, configuration: .init(table: jobs))
            #expect(try await queue.counts() == PostgresQueueCounts(ready: 0, leased: 0, done: n, dead: 0))
            let rows = try await client.query("""
                SELECT count(*), count(DISTINCT job_id),
                       count(*) FILTER (WHERE worker = 'killed'), count(*) FILTER (WHERE worker = 'stopped'),
                       (SELECT count(*) FROM \(unescaped: jobs) WHERE deliveries > 1)
                FROM \(unescaped: results)
                """)
            for try await (total, distinct, byKilled, byStopped, redelivered) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
                #expect(total == Int64(n))
                #expect(distinct == Int64(n))
                #expect(byKilled > 0 && byStopped > 0)   // all three shared the work
                print("scale-out: \(n) jobs; results by the killed worker \(byKilled), by the stopped one \(byStopped), "
                      + "by the finisher \(total - byKilled - byStopped); \(redelivered) jobs delivered more than once")
            }
        }
        // The worker's own check agrees (every job has its result, for the right job).
        let check = try await runToEnd("check", ["check", "\(n)"])
        #expect(check.contains("0 jobs without a result"), "\(check)")
    }
}
