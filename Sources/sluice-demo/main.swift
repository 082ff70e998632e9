// sluice-demo: analyse a generated web-server log with a concurrent, backpressured pipeline.
//
//   swift run sluice-demo            # 20,000 lines
//   swift run sluice-demo 100000     # more lines
import Sluice

let lineCount = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000
let lookupLatency = Duration.milliseconds(2)
let timers = StageTimers(["parse", "problems", "geolocate"])

/// The job, written once as a reusable fragment (builder style).
let analyse = Flow<String, [Incident]> {
    CompactMap { line in timers.time("parse") { LogRecord(parsing: line) } }
    Filter { (record: LogRecord) in timers.time("problems") { record.isProblem } }
    Map { (record: LogRecord) async throws -> Incident in
        try await timers.time("geolocate") {
            try await Incident(record, region: GeoDirectory.lookup(record.client, latency: lookupLatency))
        }
    }.workers(32).named("geolocate")
    Batch<Incident>(100)
}

print("sluice-demo: \(lineCount) log lines → parse → problems → geolocate (32 workers, \(format(lookupLatency)) each) → batches of 100")
let clock = ContinuousClock()
let started = clock.now
var report = Report()
try await (Pipeline { LogCorpus(lines: lineCount) } | analyse).forEach { batch in
    report.add(batch)
    if report.batches % 5 == 0 {
        print("  … \(report.incidents) incidents in \(report.batches) batches", terminator: "\r")
    }
}
let elapsed = clock.now - started
print(report.summary(lines: lineCount, elapsed: elapsed))
print(timers.table(elapsed: elapsed))
