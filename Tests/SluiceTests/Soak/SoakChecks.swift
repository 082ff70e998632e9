// The checks: what a run did against what the oracle says it must do. Each finding names the
// check it belongs to and a class (a short label that groups findings with the same cause), so a
// soak run reports every check separately.
import Sluice

extension Soak {
    enum Check: String, CaseIterable, Sendable {
        case output = "1 output"
        case error = "1 error"
        case railway = "2 railway accounting"
        case afterExit = "3 after exit"
        case resources = "4 resources"
        case bound = "5 memory bound"
        case hang = "6 watchdog"
        case drops = "7 drops"
        case events = "8 observer events"
        /// Not a failure: noted for the report.
        case note = "note"
    }

    struct Finding: Sendable, CustomStringConvertible {
        var check: Check
        var kind: String
        var detail: String
        var description: String { "[\(check.rawValue)] \(kind): \(detail)" }
    }

    /// The shape of what the terminal threw.
    enum Thrown: Equatable, CustomStringConvertible {
        case nothing
        case cancellation
        case stage(FailureModel, translated: Bool)
        case consumer(Int)
        case other(String)

        init(run: TerminalRun) { self.init(run.error) }

        var normalized: Thrown {
            if case .stage(let f, let translated) = self { return .stage(f.normalized, translated: translated) }
            return self
        }

        init(_ error: (any Error)?) {
            switch error {
            case nil: self = .nothing
            case is CancellationError: self = .cancellation
            case let failure as StageFailure where failure.underlying is Fault || failure.underlying is Translated:
                let model = FailureModel(stage: failure.stage, item: failure.item as? Value, attempts: failure.attempts)
                self = .stage(model, translated: failure.underlying is Translated)
            case let failure as StageFailure:
                self = .other("StageFailure \(failure) with an unexpected underlying \(type(of: failure.underlying))")
            case let consumer as ConsumerError: self = .consumer(consumer.index)
            case let error?: self = .other("\(type(of: error)): \(error)")
            }
        }

        var description: String {
            switch self {
            case .nothing: "returned normally"
            case .cancellation: "CancellationError"
            case .stage(let f, let translated): "StageFailure \(f)\(translated ? " (a translated cancellation)" : "")"
            case .consumer(let i): "the consumer's error at \(i)"
            case .other(let text): text
            }
        }
    }

    /// Stage names in the error and in failure values that are not the stage's qualified name.
    static func nameFindings(_ s: Scenario, _ o: Observation, _ thrown: Thrown) -> [Finding] {
        let valid = Set(s.flattened.map(\.qualified) + ["source"])
        var names: [String] = []
        if case .stage(let f, _) = thrown { names += f.stageNames }
        names += o.run.seen.flatMap(\.stageNames)
        names += (o.run.returned ?? []).flatMap(\.stageNames)
        if let (successes, failures) = o.run.partition {
            names += successes.flatMap(\.stageNames) + failures.flatMap(\.stageNames)
        }
        var found: [Finding] = []
        var reported: Set<String> = []
        for name in names where reported.insert(name).inserted {
            if name.hasPrefix("<underlying") {
                found.append(Finding(check: .error, kind: "failure with the wrong underlying error", detail: name))
                continue
            }
            var base = Substring(name)
            while base.hasSuffix("+") { base = base.dropLast() }   // mapFailure's mark
            if valid.contains(String(base)) { continue }
            let candidates = valid.filter { leafName($0) == leafName(String(base)) }.sorted()
            found.append(Finding(check: .error, kind: candidates.isEmpty ? "unknown stage name" : "wrong stage name (group path)",
                                 detail: "\(base) instead of \(candidates.joined(separator: " or "))"))
        }
        return found.count > 1 ? [found[0]] + found.dropFirst().filter { $0.kind != found[0].kind } : found
    }

    /// What the terminal must end with, in an ordered run without cancellation.
    struct Expected {
        /// Outputs the consumer sees (per-item terminals) or the terminal returns.
        var outputs: [Item]
        var thrown: Thrown
        /// The terminal stops by itself (take, first, break, a throwing consumer) before the end.
        var stopsEarly: Bool
    }

    static func expected(_ s: Scenario, _ trace: Trace) -> Expected {
        let p = trace.outputs
        if let n = s.terminal.needs, p.count >= n {
            return Expected(outputs: Array(p.prefix(n)), thrown: .nothing, stopsEarly: true)
        }
        if case .forEach(_, let throwAt?) = s.terminal, p.count > throwAt {
            return Expected(outputs: Array(p.prefix(throwAt + 1)), thrown: .consumer(throwAt), stopsEarly: true)
        }
        return Expected(outputs: p, thrown: trace.failure.map { .stage($0, translated: false) } ?? .nothing, stopsEarly: false)
    }

    /// Everything wrong with one run (`nil`: it hung).
    static func findings(_ s: Scenario, _ observation: Observation?) -> [Finding] {
        guard let o = observation else {
            return [Finding(check: .hang, kind: "hang", detail: "the run did not end before the watchdog")]
        }
        var found: [Finding] = []
        // A buffer that drops drops what the timing makes it drop: the oracle drops the same items
        // there, so every other item must be delivered exactly as without drops.
        let oracle = Oracle(s, drops: o.drops)
        let raw = Thrown(run: o.run)

        // 1. Stage names: every name the run reports must be the stage's qualified name. The other
        //    checks compare names by their last component, so a wrong path is reported once, here.
        found += nameFindings(s, o, raw)
        let normalized = o.normalized
        let run = normalized.run
        let thrown = raw.normalized
        if s.comparison == .exact {
            found += orderedFindings(s, oracle.expected().normalized, normalized, thrown)
        } else {
            found += unorderedFindings(s, oracle.faultFree().normalized, normalized, thrown)
        }

        // 2. Railway accounting, in runs that went to the end.
        if run.error == nil, !o.cancelIssued, s.terminal.needs == nil, s.cap == nil {
            for block in s.railBlocks where block.isAccountable {
                let c = o.rails[block.id] ?? RailCount()
                if c.entered != c.successes + c.failures + c.filtered {
                    found.append(Finding(check: .railway, kind: "railway input not accounted for exactly once",
                                         detail: "block #\(block.id): \(c)"))
                }
            }
        }

        // 3. Nothing starts, nothing reads the source, nothing runs after the terminal returned.
        let after = s.terminal.isBreak ? "break" : "terminal returned"
        // A bare loop cannot wait for its run: a body or a read that had passed its stop check at
        // the moment the loop exited may still begin — at most one per worker (a scenario has at
        // most 4 nodes of at most 4 workers, groups included) and one read of the source.
        let toleratedStarts = s.terminal.isBreak ? Soak.maxWorkersPerScenario : 0
        let toleratedReads = s.terminal.isBreak ? 1 : 0
        if o.startedAfterExit > toleratedStarts {
            found.append(Finding(check: .afterExit, kind: "body started after \(after)",
                                 detail: "\(o.startedAfterExit) body starts after the \(s.terminal.isBreak ? "loop exited" : "terminal returned")"))
        }
        if o.sourceCallsAfterExit > toleratedReads {
            found.append(Finding(check: .afterExit, kind: "source read after \(after)",
                                 detail: "the source was asked \(o.sourceCallsAfterExit) more times"))
        }
        if !s.terminal.isBreak, run.activeAtExit > 0 {
            found.append(Finding(check: .afterExit, kind: "body still running when the terminal returned",
                                 detail: "\(run.activeAtExit) bodies running after \(thrown)"))
        }

        // 4. Resources: each created one torn down exactly once, never shared.
        for problem in o.resourceProblems {
            let kind = problem.contains("never torn down") ? "resource never torn down"
                : problem.contains("times") ? "resource torn down twice" : "resource misused"
            found.append(Finding(check: .resources, kind: kind, detail: problem))
        }
        if !s.terminal.isBreak, !run.resourcesSettledAtExit, o.resourceProblems.isEmpty {
            found.append(Finding(check: .resources, kind: "resource torn down after the terminal returned",
                                 detail: "a teardown ran after \(thrown)"))
        }
        if s.terminal.isBreak, !o.settledAfterBreak {
            found.append(Finding(check: .afterExit, kind: "run never settled after break",
                                 detail: "bodies still running or resources not torn down long after the loop exited"))
        }

        // 7. Drops accounted for exactly: each item a buffer dropped reached it (and was dropped
        //    once), and the metrics counted every drop reported to `onDrop`.
        found += dropFindings(s, o, oracle)

        // 8. Observers: each item an observed stage started ended exactly once (succeeded, failed
        //    or cancelled) before the terminal returned. (A bare loop does not wait for its run.)
        if !s.terminal.isBreak, o.events.started != o.events.ended {
            found.append(Finding(check: .events, kind: "observed item not ended exactly once",
                                 detail: "\(o.events)"))
        }

        // 5. The memory bound, for pipelines of one-to-one stages, sampled by the consumer.
        if s.isOneToOne, s.terminal.seesEachOutput, o.maxInFlight > o.bound {
            found.append(Finding(check: .bound, kind: "memory bound exceeded",
                                 detail: "\(o.maxInFlight) items taken from the source and not delivered; inFlightBound \(o.bound)"))
        }
        return found
    }

    static func dropFindings(_ s: Scenario, _ o: Observation, _ oracle: Oracle) -> [Finding] {
        var found: [Finding] = []
        let reached = oracle.faultFree().inputs
        for (id, dropped) in o.drops.sorted(by: { $0.key < $1.key }) {
            var received: [Value: Int] = [:]
            for item in reached[id] ?? [] { if case .value(let v) = item.normalized { received[v, default: 0] += 1 } }
            for v in dropped.map(\.normalized) {
                if let n = received[v], n > 0 {
                    received[v] = n - 1
                } else {
                    found.append(Finding(check: .drops, kind: "dropped an item it never received (or twice)",
                                         detail: "leaf #\(id) dropped \(v)"))
                }
            }
        }
        let reported = o.drops.values.reduce(0) { $0 + $1.count }
        if reported > 0 {
            found.append(Finding(check: .note, kind: "a buffer dropped items", detail: "\(reported) dropped"))
        }
        // After a `break` the run may still be ending while it is observed: the reader may be
        // between reporting a drop and counting it.
        if !s.terminal.isBreak, o.metricDrops != reported {
            found.append(Finding(check: .drops, kind: "drops not counted exactly in the metrics",
                                 detail: "onDrop saw \(reported), the metrics count \(o.metricDrops)"))
        }
        return found
    }

    // MARK: ordered runs: exact

    static func orderedFindings(_ s: Scenario, _ trace: Trace, _ o: Observation, _ thrown: Thrown) -> [Finding] {
        let e = expected(s, trace)
        let run = o.run
        var found: [Finding] = []

        if o.cancelIssued {
            // The caller was cancelled while the run was going: CancellationError (after a correct
            // prefix) — or, if it got there first, the result a run without cancellation gives.
            switch thrown {
            case .cancellation:
                if s.terminal.seesEachOutput, !e.outputs.starts(with: run.seen) {
                    found.append(Finding(check: .output, kind: "wrong outputs before the cancellation",
                                         detail: mismatch(run.seen, e.outputs)))
                }
                return found
            case .stage(_, let translated):
                found.append(Finding(check: .error, kind: translated ? "translated cancellation became the run's failure" : "StageFailure instead of CancellationError",
                                     detail: "cancelled caller got \(thrown)"))
                return found
            case .nothing where !e.stopsEarly:
                found.append(cancelledButEnded(s, o))
            default:
                break
            }
        }

        // The error.
        if thrown != e.thrown {
            found.append(Finding(check: .error, kind: errorKind(s, expected: e.thrown, actual: thrown, stopsEarly: e.stopsEarly),
                                 detail: "expected \(e.thrown), got \(thrown)"))
        }

        // The outputs the consumer saw or the terminal returned.
        // A failure (expected, or thrown where the terminal had enough) makes missing outputs a lost prefix.
        let failing: Bool = switch (e.thrown, thrown) {
        case (.stage, _), (_, .stage): true
        default: false
        }
        switch s.terminal {
        case .collect, .take, .first:
            if thrown == .nothing, e.thrown == .nothing, let returned = run.returned, returned != e.outputs {
                found.append(Finding(check: .output, kind: outputKind(returned, e.outputs, failing: false, s),
                                     detail: mismatch(returned, e.outputs)))
            }
        case .count:
            if thrown == .nothing, e.thrown == .nothing, run.count != e.outputs.count {
                found.append(Finding(check: .output, kind: "wrong count", detail: "\(run.count ?? -1) instead of \(e.outputs.count)"))
            }
        case .partition:
            if thrown == .nothing, e.thrown == .nothing, let (successes, failures) = run.partition {
                let want = split(e.outputs)
                if successes != want.successes || failures != want.failures {
                    found.append(Finding(check: .output, kind: "wrong partition",
                                         detail: "successes " + mismatch(successes.map(Item.success), want.successes.map(Item.success))
                                            + "; failures " + mismatch(failures.map(Item.failure), want.failures.map(Item.failure))))
                }
            }
        case .reduceInto, .reduceAsync, .forEach, .loop:
            if run.seen != e.outputs {
                found.append(Finding(check: .output, kind: outputKind(run.seen, e.outputs, failing: failing, s),
                                     detail: mismatch(run.seen, e.outputs)))
            }
            if run.returned != nil || run.count != nil {
                found.append(Finding(check: .output, kind: "reduce result differs from its inputs", detail: "\(run.returned ?? [])"))
            }
        }
        return found
    }

    /// A cancelled caller whose terminal still returned normally (with the right result). When its
    /// consumer took several outputs after the cancellation, the cancellation was plainly ignored;
    /// otherwise the run may simply have finished first.
    static func cancelledButEnded(_ s: Scenario, _ o: Observation) -> Finding {
        let detail = "returned normally; after the cancel the consumer took \(o.deliveredAfterCancel) outputs and \(o.startsAfterCancel) bodies started"
        if s.terminal.seesEachOutput, o.deliveredAfterCancel >= 2 {
            return Finding(check: .error, kind: "cancelled caller's \(s.terminal.shortLabel) ended normally", detail: detail)
        }
        return Finding(check: .note, kind: "completed despite cancellation", detail: detail)
    }

    static func errorKind(_ s: Scenario, expected: Thrown, actual: Thrown, stopsEarly: Bool) -> String {
        switch (expected, actual) {
        case (_, .stage(_, translated: true)):
            return "translated cancellation became the run's failure"
        case (.nothing, .stage) where stopsEarly, (.consumer, .stage):
            return "\(s.terminal.shortName) threw though it had what it needed"
        case (.stage, .nothing), (.stage, .consumer):
            return "failure swallowed"
        case (.stage, .cancellation), (.nothing, .cancellation), (.consumer, .cancellation):
            return "CancellationError without a cancelled caller"
        case (.nothing, .stage):
            return "failure where none was expected"
        case (.stage, .stage(let got, _)) where isCutShort(got, s):
            return cutShort
        case (.stage(let want, _), .stage(let got, _)):
            // (Items are unique per stage only: another stage's equal item is another failure.)
            if got.stage == want.stage, got.item == want.item { return "wrong attempts" }
            if want.stage == "source" || got.stage == "source" { return "not the first failure in source order (source)" }
            return "not the first failing item in source order"
        default:
            return "wrong error"
        }
    }

    /// The class for railway failures the run delivered with fewer attempts than the policy
    /// allows: a retry given up because the run was stopping (another item failed, the consumer
    /// stopped), whose item then went on as a failure anyway.
    static let cutShort = "retry cut short by the stopping run"

    /// A failure (thrown, or a railway failure value) from a retrying stage with fewer attempts
    /// than its policy's.
    static func isCutShort(_ failure: FailureModel, _ s: Scenario) -> Bool {
        var base = Substring(failure.stage)
        while base.hasSuffix("+") { base = base.dropLast() }
        // Only a name that identifies one stage says which policy applies (unnamed stages share
        // their kind's name; railway stages that make failure values are always named).
        let named = s.flattened.filter { $0.leaf.name == String(base) }
        guard named.count == 1, let leaf = named.first?.leaf else { return false }
        return leaf.options.retry != nil && failure.attempts < leaf.options.maxAttempts
    }

    static func isCutShort(_ item: Item, _ s: Scenario) -> Bool {
        item.atoms.contains { atom in
            switch atom {
            case .failure(let f): isCutShort(f, s)
            case .value(.failed(let stage, let item, let attempts)), .success(.failed(let stage, let item, let attempts)):
                isCutShort(FailureModel(stage: stage, item: item, attempts: attempts), s)
            default: false
            }
        }
    }

    static func outputKind(_ actual: [Item], _ expected: [Item], failing: Bool, _ s: Scenario) -> String {
        let common = zip(actual, expected).prefix { $0 == $1 }.count
        if common < actual.count, common < expected.count, isCutShort(actual[common], s) { return cutShort }
        if actual.count < expected.count, expected.starts(with: actual) {
            return failing ? "prefix lost on failure" : "outputs missing"
        }
        if actual.count > expected.count, actual.starts(with: expected) {
            return failing ? "outputs past the failing item delivered" : "extra outputs"
        }
        if counted(actual) == counted(expected) { return "order differs" }
        return "wrong outputs"
    }

    // MARK: unordered runs: multisets

    static func unorderedFindings(_ s: Scenario, _ free: Trace, _ o: Observation, _ thrown: Thrown) -> [Finding] {
        let run = o.run
        let atoms = s.comparison == .atoms
        let full = bag(free.outputs, atoms: atoms)
        var found: [Finding] = []
        let mayFail = !free.possibleFailures.isEmpty

        func fits(_ items: [Item]) -> Bool { isSubBag(bag(items, atoms: atoms), of: full) }
        // A binding `limit` on the last stage: that many outputs (all, if fewer), any of them.
        let wanted = s.cap.map { min($0, free.outputs.count) }
        func complete(_ items: [Item]) -> Bool {
            if let wanted { return items.count == wanted && fits(items) }
            // An expansion with dedupe and a depth limit: its inputs, and no more than it can reach.
            if let floor = free.floor { return fits(items) && isSubBag(bag(floor, atoms: atoms), of: bag(items, atoms: atoms)) }
            return bag(items, atoms: atoms) == full
        }
        let counts = wanted.map { $0...$0 } ?? free.floor.map { $0.count...free.outputs.count } ?? free.outputs.count...free.outputs.count

        /// The class for outputs that do not fit: retries cut short, or plainly unexpected ones.
        func misfit(_ items: [Item], _ otherwise: String) -> String {
            unexpected(items, free.outputs, atoms: atoms).contains { isCutShort($0, s) } ? cutShort : otherwise
        }
        // What the consumer saw must come from the full outputs.
        if !fits(run.seen) {
            found.append(Finding(check: .output, kind: misfit(run.seen, "outputs not among the expected ones"),
                                 detail: "saw \(run.seen.count) outputs; " + extra(run.seen, free.outputs, atoms: atoms)))
        }
        switch thrown {
        case .cancellation:
            if !o.cancelIssued {
                found.append(Finding(check: .error, kind: "CancellationError without a cancelled caller", detail: ""))
            }
        case .stage(let failure, let translated):
            if o.cancelIssued || translated {
                found.append(Finding(check: .error, kind: translated ? "translated cancellation became the run's failure" : "StageFailure instead of CancellationError",
                                     detail: "got \(thrown)"))
            } else if !free.possibleFailures.contains(failure), isCutShort(failure, s) {
                found.append(Finding(check: .error, kind: cutShort, detail: "got \(thrown)"))
            } else if !free.possibleFailures.contains(failure) {
                found.append(Finding(check: .error, kind: "failure that no item causes", detail: "got \(thrown); possible: \(Array(free.possibleFailures.prefix(5)))"))
            } else if let n = s.terminal.needs, run.seen.count >= n {
                found.append(Finding(check: .error, kind: "\(s.terminal.shortName) threw though it had what it needed", detail: "got \(thrown)"))
            }
        case .consumer(let index):
            if case .forEach(_, let throwAt) = s.terminal, throwAt == index, run.seen.count == index + 1 {
                break
            }
            found.append(Finding(check: .error, kind: "wrong consumer error", detail: "\(thrown) after \(run.seen.count) outputs"))
        case .other:
            found.append(Finding(check: .error, kind: "wrong error", detail: "\(thrown)"))
        case .nothing:
            // Returned normally: with what it needed, or at the end of a complete run.
            var outputs: [Item] = run.seen
            if let returned = run.returned { outputs = returned }
            if let (successes, failures) = run.partition { outputs = successes.map(Item.success) + failures.map(Item.failure) }
            let stopped = s.terminal.needs.map { outputs.count == $0 } ?? false
            if s.terminal.needs != nil, outputs.count > s.terminal.needs! {
                found.append(Finding(check: .output, kind: "more outputs than asked for", detail: "\(outputs.count)"))
            } else if stopped {
                if !fits(outputs) {
                    found.append(Finding(check: .output, kind: misfit(outputs, "outputs not among the expected ones"), detail: extra(outputs, free.outputs, atoms: atoms)))
                }
            } else if case .count = s.terminal {
                if !counts.contains(run.count ?? -1), !o.cancelIssued {
                    found.append(Finding(check: .output, kind: "wrong count", detail: "\(run.count ?? -1) instead of \(counts)"))
                }
                if mayFail { found.append(Finding(check: .error, kind: "failure swallowed", detail: "count returned")) }
            } else {
                if mayFail {
                    found.append(Finding(check: .error, kind: "failure swallowed", detail: "returned normally; possible: \(Array(free.possibleFailures.prefix(3)))"))
                } else if !complete(outputs) {
                    found.append(Finding(check: .output, kind: misfit(outputs, "unordered outputs differ"), detail: extra(outputs, free.outputs, atoms: atoms)))
                } else if o.cancelIssued {
                    found.append(cancelledButEnded(s, o))
                }
            }
        }
        return found
    }

    // MARK: helpers

    static func split(_ items: [Item]) -> (successes: [Value], failures: [FailureModel]) {
        var successes: [Value] = [], failures: [FailureModel] = []
        for item in items {
            switch item {
            case .success(let v): successes.append(v)
            case .failure(let f): failures.append(f)
            case .value(let v): successes.append(v)
            }
        }
        return (successes, failures)
    }

    static func counted(_ items: [Item]) -> [Item: Int] {
        items.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    static func bag(_ items: [Item], atoms: Bool) -> [Item: Int] {
        counted(atoms ? items.flatMap(\.atoms) : items)
    }

    static func isSubBag(_ a: [Item: Int], of b: [Item: Int]) -> Bool {
        a.allSatisfy { b[$0.key, default: 0] >= $0.value }
    }

    /// The items of `actual` that `full` does not have (as multisets).
    static func unexpected(_ actual: [Item], _ full: [Item], atoms: Bool) -> [Item] {
        var remaining = bag(full, atoms: atoms)
        var unexpected: [Item] = []
        for item in atoms ? actual.flatMap(\.atoms) : actual {
            if remaining[item, default: 0] > 0 { remaining[item]! -= 1 } else { unexpected.append(item) }
        }
        return unexpected
    }

    static func extra(_ actual: [Item], _ full: [Item], atoms: Bool) -> String {
        var remaining = bag(full, atoms: atoms)
        var unexpected: [Item] = []
        for item in atoms ? actual.flatMap(\.atoms) : actual {
            if remaining[item, default: 0] > 0 { remaining[item]! -= 1 } else { unexpected.append(item) }
        }
        let missing = remaining.filter { $0.value > 0 }.map(\.key)
        return "unexpected \(unexpected.prefix(6)) (\(unexpected.count)), missing \(missing.prefix(6)) (\(missing.reduce(0) { $0 + remaining[$1]! }))"
    }

    /// A short account of how two output lists differ.
    static func mismatch(_ actual: [Item], _ expected: [Item]) -> String {
        let common = zip(actual, expected).prefix { $0 == $1 }.count
        var text = "got \(actual.count) outputs, expected \(expected.count); equal for the first \(common)"
        if common < actual.count { text += "; got[\(common)...] = \(actual[common...].prefix(4))" }
        if common < expected.count { text += "; expected[\(common)...] = \(expected[common...].prefix(4))" }
        return text
    }
}

extension Soak.Terminal {
    var shortName: String {
        switch self {
        case .take: "take(n)"
        case .first: "first()"
        case .loop: "a loop that breaks"
        case .forEach: "forEach that throws"
        default: "\(self)"
        }
    }
}

extension Soak.Trace {
    /// Stage names reduced to their last component (see `Soak.nameFindings`).
    var normalized: Soak.Trace {
        var t = self
        t.outputs = outputs.map(\.normalized)
        t.failure = failure?.normalized
        t.possibleFailures = Set(possibleFailures.map(\.normalized))
        t.floor = floor?.map(\.normalized)
        return t
    }
}

extension Soak.Observation {
    var normalized: Soak.Observation {
        var o = self
        o.run.seen = run.seen.map(\.normalized)
        o.run.returned = run.returned.map { $0.map(\.normalized) }
        if let (successes, failures) = run.partition {
            o.run.partition = (successes.map(\.normalized), failures.map(\.normalized))
        }
        return o
    }
}

extension Soak {
    /// Workers a scenario can have at most, summed over its stages (4 top-level nodes, nested groups
    /// and railway blocks included, at most 4 workers each): what a bare loop's exit may leave
    /// starting (see check 3).
    static let maxWorkersPerScenario = 64
}
