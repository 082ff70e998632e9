// sluice-demo: analyse a generated web-server log with a concurrent, backpressured pipeline.
//
//   swift run sluice-demo            # 20,000 lines
//   swift run sluice-demo 100000     # more lines
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Sluice

let lineCount = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000
let lookupLatency = Duration.milliseconds(2)

/// The job, written once as a reusable fragment (builder style).
let analyse = Flow<String, [Incident]> {
    CompactMap { (line: String) in LogRecord(parsing: line) }.named("parse")
    Filter { (record: LogRecord) in record.isProblem }.named("problems")
    Map { (record: LogRecord) async throws -> Incident in
        try await Incident(record, region: GeoDirectory.lookup(record.client, latency: lookupLatency))
    }
    .timeout(.seconds(1))
    .retry(.attempts(3, backoff: .exponential(initial: .milliseconds(10), max: .milliseconds(200), jitter: 0.2)))
    .workers(32).named("geolocate")
    Batch<Incident>(100)
}

/// A live one-line progress display, redrawn every 200 ms, and a per-stage table at the end.
let metrics = PipelineMetrics(progressEvery: .milliseconds(200)) { snapshot in
    print("\u{1B}[2K\r  " + snapshot.progressLine, terminator: "")
    fflush(nil)
}

print("sluice-demo: \(lineCount) log lines → parse → problems → geolocate (32 workers, \(format(lookupLatency)) each) → batches of 100")
let clock = ContinuousClock()
let started = clock.now
var report = Report()
try await (Pipeline { LogCorpus(lines: lineCount) } | analyse).metrics(metrics).forEach { batch in
    report.add(batch)
}
let elapsed = clock.now - started
print()
print(report.summary(lines: lineCount, elapsed: elapsed))
print()
print(metrics.snapshot().table)
