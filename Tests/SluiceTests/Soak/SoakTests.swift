// The soak: thousands of random pipelines with random faults, cancellations, breaks and stalled
// consumers, each checked against the Array oracle and the run's instruments. See Docs/Soak.md.
//
//   swift test --filter SoakTests                                   # 1,000 scenarios
//   SLUICE_SOAK_SEED=123 swift test --filter SoakTests              # replay one seed, verbosely
//   SLUICE_SOAK_SCENARIOS=100000 swift test -c release --filter SoakTests
import Foundation
import Sluice
import SluiceTestSupport
import Testing

@Suite struct SoakTests {
    static let defaultScenarios = 1_000
    static let defaultBase: UInt64 = 0x50A_C000

    /// The settings, from the environment.
    struct Settings {
        var base: UInt64
        var scenarios: Int
        var replay: UInt64?
        var repeats: Int
        var strict: Bool
        var watchdog: Double
        var verbose: Bool

        init(_ env: [String: String] = ProcessInfo.processInfo.environment) {
            replay = env["SLUICE_SOAK_SEED"].flatMap { UInt64($0) }
            base = replay ?? env["SLUICE_SOAK_BASE"].flatMap { UInt64($0) } ?? SoakTests.defaultBase
            scenarios = replay != nil ? 1 : env["SLUICE_SOAK_SCENARIOS"].flatMap { Int($0) } ?? SoakTests.defaultScenarios
            repeats = max(1, env["SLUICE_SOAK_REPEAT"].flatMap { Int($0) } ?? 1)
            strict = env["SLUICE_SOAK_STRICT"] != "0"
            watchdog = env["SLUICE_SOAK_WATCHDOG"].flatMap { Double($0) } ?? 30
            verbose = replay != nil || env["SLUICE_SOAK_VERBOSE"] == "1"
        }
    }

    /// Classes of findings that today's executor is known to produce (issue 10, items 1–4, which
    /// the lead is fixing). `SLUICE_SOAK_STRICT=0` reports them without failing, so the soak can
    /// guard everything else meanwhile; the default is strict. Remove this list once they pass.
    static let knownToday: Set<String> = [
        // Item 1: a failure takes the prefix with it; take/first/break fail after having enough.
        "prefix lost on failure",
        "not the first failing item in source order",
        "not the first failure in source order (source)",
        "take(n) threw though it had what it needed",
        "first() threw though it had what it needed",
        "a loop that breaks threw though it had what it needed",
        "forEach that throws threw though it had what it needed",
        // Item 2: a bare break is not structured.
        "body started after break",
        "source read after break",
        // Item 3: a translated cancellation becomes the run's failure.
        "translated cancellation became the run's failure",
        "StageFailure instead of CancellationError",
        // Item 4: nested group names.
        "wrong stage name (group path)",
    ]

    /// Classes the soak found that issue 10 does not list (see the soak's note): also tolerated by
    /// `SLUICE_SOAK_STRICT=0` until the lead decides on them.
    static let foundBySoak: Set<String> = [
        // A `for try await` whose caller is cancelled does not notice: it keeps delivering and
        // ends normally (the loop's run lives in the iterator's own task). `forEach`/`reduce` that
        // got the run's last batch before the cancellation finish it and return normally too.
        "cancelled caller's for try await ended normally",
        "cancelled caller's for try await + break ended normally",
        "cancelled caller's forEach ended normally",
        "cancelled caller's reduce(into:) ended normally",
        "cancelled caller's reduce(async) ended normally",
        // "Nothing is retried once the run is stopping": an item before the failing one (or any
        // item of an unordered run) whose retry is given up comes out as a failure with fewer
        // attempts — a failure value that is delivered, or the run's StageFailure.
        "retry cut short by the stopping run",
    ]

    static func isTolerated(_ kind: String, strict: Bool) -> Bool {
        !strict && (knownToday.contains(kind) || foundBySoak.contains(kind))
    }

    @Test func randomPipelinesUnderFaultsMatchTheOracle() async throws {
        let settings = Settings()
        var report = SoakReport()
        let clock = ContinuousClock()
        let start = clock.now
        let pool = BlockingPool(threads: 3, name: "soak")
        for i in 0..<settings.scenarios {
            let seed = settings.base &+ UInt64(i)
            let scenario = Soak.Scenario.random(seed: seed)
            report.cover(scenario)
            for _ in 0..<settings.repeats {
                let began = clock.now
                let observation = await withWatchdog(seconds: settings.watchdog) { await Soak.Runner.observe(scenario, pool: pool) }
                let took = began.duration(to: clock.now)
                let findings = Soak.findings(scenario, observation)
                report.add(scenario, findings, observation, took)
                if settings.verbose {
                    print("soak: \(scenario)")
                    print("soak: stages \(observation?.stages ?? "(hung)")")
                    print("soak: expected \(Soak.Oracle(scenario).expected().outputs.count) outputs, failure \(Soak.Oracle(scenario).expected().failure.map(\.description) ?? "none"); ended with \(Soak.Thrown(observation?.run.error))")
                }
                for finding in findings where finding.check != .note {
                    print("soak: seed \(seed) \(finding)")
                }
                if observation == nil, report.hangs >= 3 {
                    Issue.record("soak: stopping after 3 hangs (last: seed \(seed))")
                    break
                }
            }
            if report.hangs >= 3 { break }
        }
        let elapsed = start.duration(to: clock.now)
        // A hung run may still hold a pool thread: then leave the pool to the process's exit.
        if report.hangs == 0 { pool.shutdown() }
        print(report.summary(elapsed: elapsed, settings: settings))

        for entry in report.classes.values.sorted(by: { $0.count > $1.count }) where entry.check != .note {
            if Self.isTolerated(entry.kind, strict: settings.strict) { continue }
            let seeds = entry.smallest.map { "\($0.seed)" }.joined(separator: ", ")
            Issue.record("""
                soak [\(entry.check.rawValue)] \(entry.kind): \(entry.count) runs; smallest seeds \(seeds)
                replay: SLUICE_SOAK_SEED=\(entry.smallest[0].seed) swift test --filter SoakTests
                \(entry.smallest[0].finding.detail)
                \(entry.smallest[0].scenario)
                """)
        }
    }
}

/// Tallies the findings by class and what the scenarios covered.
struct SoakReport {
    struct Example {
        var seed: UInt64
        var size: Int
        var finding: Soak.Finding
        var scenario: String
    }

    struct Entry {
        var check: Soak.Check
        var kind: String
        var count = 0
        var smallest: [Example] = []
    }

    var classes: [String: Entry] = [:]
    var scenarios = 0
    var failing = 0
    var hangs = 0
    var coverage: [String: Int] = [:]
    var slowest: [(seed: UInt64, took: Duration)] = []
    /// Runs where the memory bound was checked, and the highest share of the bound reached.
    var boundChecked = 0
    var boundNearlyReached = 0
    var highestBoundShare = 0.0
    var railwayAccounted = 0

    mutating func add(_ scenario: Soak.Scenario, _ findings: [Soak.Finding], _ observation: Soak.Observation?, _ took: Duration) {
        slowest.append((scenario.seed, took))
        slowest.sort { $0.took > $1.took }
        if slowest.count > 3 { slowest.removeLast() }
        if let o = observation {
            if scenario.isOneToOne, scenario.terminal.seesEachOutput, o.bound > 0 {
                boundChecked += 1
                let share = Double(o.maxInFlight) / Double(o.bound)
                highestBoundShare = max(highestBoundShare, share)
                if share >= 0.5 { boundNearlyReached += 1 }
            }
            if o.run.error == nil, !o.cancelIssued, scenario.terminal.needs == nil,
               scenario.railBlocks.contains(where: \.isAccountable) {
                railwayAccounted += 1
            }
        }
        if findings.contains(where: { $0.check != .note }) { failing += 1 }
        if findings.contains(where: { $0.check == .hang }) { hangs += 1 }
        let size = Soak.Oracle(scenario).faultFree().work + 10 * scenario.flattened.count
        var seen: Set<String> = []
        for finding in findings where seen.insert(finding.kind).inserted {
            var entry = classes[finding.kind] ?? Entry(check: finding.check, kind: finding.kind)
            entry.count += 1
            entry.smallest.append(Example(seed: scenario.seed, size: size, finding: finding, scenario: "\(scenario)"))
            entry.smallest.sort { $0.size < $1.size }
            if entry.smallest.count > 3 { entry.smallest.removeLast() }
            classes[finding.kind] = entry
        }
    }

    mutating func cover(_ scenario: Soak.Scenario) {
        scenarios += 1
        func note(_ key: String) { coverage[key, default: 0] += 1 }
        note("source \(scenario.source.rawValue)")
        if scenario.source == .zip {
            note(scenario.zip.extra == 0 ? "zip: equal inputs" : "zip: unequal inputs")
            if scenario.count == 0 { note("zip: an empty input") }
        }
        if scenario.source == .zip, scenario.sourceFailsAfter != nil { note("zip: a failing input") }
        if scenario.cap != nil { note("expand: binding limit") }
        for (leaf, _) in scenario.flattened where leaf.kind.isExpand {
            if scenario.faults[leaf.id]?.isEmpty == false { note("expand: failing step") }
            if scenario.cancel != nil { note("expand: caller cancelled") }
            if scenario.terminal.needs != nil { note("expand: terminal stops early (take, first, break)") }
            if let b = leaf.options.buffer, b <= 1 { note("expand: buffer(0/1)") }
        }
        note("terminal \(scenario.terminal.shortLabel)")
        note("comparison \(scenario.comparison.rawValue)")
        if scenario.cancel != nil { note("caller cancelled") }
        if scenario.sourceFailsAfter != nil { note("source fails") }
        let failFast = scenario.flattened.contains { $0.leaf.kind.failsFast && scenario.faults[$0.leaf.id]?.isEmpty == false }
        if failFast || scenario.sourceFailsAfter != nil { note("fail-fast faults") }
        if scenario.isOneToOne { note("one-to-one (bound checked)") }
        if case .forEach(let stall, _) = scenario.terminal, stall > 0 { note("stalled consumer") }
        if case .loop(let stall, _) = scenario.terminal, stall > 0 { note("stalled consumer") }
        func nodes(_ node: Soak.Node, depth: Int) {
            switch node {
            case .leaf: break
            case .rail: note("railway block")
            case .group(let g):
                note(g.options.name != nil ? "named group" : "unnamed group")
                if depth > 0 { note("nested group") }
                if g.shape != .plain { note("shape \(g.shape.rawValue)") }
                if g.shape != .plain, g.children.contains(where: { $0.flattened().contains { $0.leaf.kind.isExpand } }) {
                    note("shape \(g.shape.rawValue) with an expansion inside")
                }
                g.children.forEach { nodes($0, depth: depth + 1) }
            }
        }
        scenario.allNodes.forEach { nodes($0, depth: 0) }
        for (leaf, _) in scenario.flattened {
            if case .expand(let plan) = leaf.kind {
                note("stage expand(\(plan.async ? "async" : "sync"), dedupe \(plan.dedupe.rawValue)\(plan.maxDepth != nil ? ", maxDepth" : "")\(plan.limit != nil ? ", limit" : ""))")
                if plan.frontier < 8 { note("expand: frontier < 8") }
            } else {
                note("stage \(leaf.kind)")
            }
            if leaf.options.front == .builder { note("builder-style stage") }
            if leaf.options.retry != nil { note("retry") }
            if leaf.options.timeout != nil { note("timeout (never fires)") }
            if leaf.options.around { note("middleware") }
            if let observer = leaf.options.observer { note("observer (\(observer.rawValue))") }
            if let w = leaf.options.workers, w > 1 { note("workers > 1") }
            if leaf.options.buffer == 0 { note("buffer(0)") }
        }
    }

    func summary(elapsed: Duration, settings: SoakTests.Settings) -> String {
        var lines = ["soak: \(scenarios) scenarios × \(settings.repeats) from seed \(settings.base) in \(elapsed); \(failing) runs with findings, \(hangs) hangs; strict \(settings.strict)"]
        for entry in classes.values.sorted(by: { ($0.check.rawValue, -$0.count) < ($1.check.rawValue, -$1.count) }) {
            let known = SoakTests.knownToday.contains(entry.kind) ? " (known, issue 10)"
                : SoakTests.foundBySoak.contains(entry.kind) ? " (found by the soak)" : ""
            lines.append("  [\(entry.check.rawValue)] \(entry.kind)\(known): \(entry.count) — seeds \(entry.smallest.map { "\($0.seed)" }.joined(separator: ", "))")
        }
        lines.append("soak checks exercised: memory bound in \(boundChecked) runs (≥ 50 % of it reached in \(boundNearlyReached), highest \(Int(highestBoundShare * 100)) %); railway accounting in \(railwayAccounted) runs")
        lines.append("soak slowest: " + slowest.map { "seed \($0.seed) \($0.took)" }.joined(separator: ", "))
        lines.append("soak coverage:")
        for (key, n) in coverage.sorted(by: { $0.key < $1.key }) { lines.append("  \(key): \(n)") }
        return lines.joined(separator: "\n")
    }
}

extension Soak.Terminal {
    var shortLabel: String {
        switch self {
        case .collect: "collect"
        case .count: "count"
        case .take: "take"
        case .first: "first"
        case .reduceInto: "reduce(into:)"
        case .reduceAsync: "reduce(async)"
        case .forEach(_, let t): t == nil ? "forEach" : "forEach (throwing)"
        case .loop(_, let b): b == nil ? "for try await" : "for try await + break"
        case .partition: "partition"
        }
    }
}
