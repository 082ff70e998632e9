// The oracle: the scenario's operations applied lazily, item by item, to an Array.
//
// Each source item is pushed through every stage before the next one is read (a flatMap's children
// one after the other, a batch emitting when full and flushing at the end). The first fault that
// fires stops everything, so the outputs gathered until then are exactly "the outputs of every item
// before the failing one", and the fault is "the first failing item in source order" — the rule a
// failing ordered run must follow, whatever the workers and timing. A batch's partial batch is not
// flushed on failure; a source failing after k items leaves the outputs of those k items.
//
// With `failFast: false` the fail-fast faults are recorded but do not fire: that gives the complete
// outputs a run without those faults would deliver (the superset an unordered run's outputs must
// fit in) and every failure an unordered run may report.
import Sluice

extension Soak {
    /// A `StageFailure` as a comparable value.
    struct FailureModel: Hashable, Sendable, CustomStringConvertible {
        var stage: String
        var item: Value?
        var attempts: Int
        var description: String {
            "[\(stage)] \(item.map { "item \($0)" } ?? "no item")\(attempts > 1 ? " after \(attempts) attempts" : "")"
        }

        var normalized: FailureModel {
            FailureModel(stage: Soak.leafName(stage), item: item?.normalized, attempts: attempts)
        }

        var stageNames: [String] { [stage] + (item?.stageNames ?? []) }
    }

    /// An output as a comparable value: a plain value, or a railway success or failure.
    enum Item: Hashable, Sendable, CustomStringConvertible {
        case value(Value)
        case success(Value)
        case failure(FailureModel)

        var plainOrSuccess: Value? {
            switch self {
            case .value(let v), .success(let v): v
            case .failure: nil
            }
        }

        /// What survives regrouping by a batch.
        var atoms: [Item] {
            switch self {
            case .value(let v): v.atoms.map(Item.value)
            case .success(let v): v.atoms.map(Item.success)
            case .failure: [self]
            }
        }

        var normalized: Item {
            switch self {
            case .value(let v): .value(v.normalized)
            case .success(let v): .success(v.normalized)
            case .failure(let f): .failure(f.normalized)
            }
        }

        var stageNames: [String] {
            switch self {
            case .value(let v), .success(let v): v.stageNames
            case .failure(let f): f.stageNames
            }
        }

        var description: String {
            switch self {
            case .value(let v): v.description
            case .success(let v): "ok(\(v))"
            case .failure(let f): "err\(f)"
            }
        }
    }

    struct Trace {
        /// The outputs, in order, until the failure (or all of them).
        var outputs: [Item] = []
        /// The first failure in source order (`nil`: the run completes).
        var failure: FailureModel?
        /// Every fail-fast fault that fires when none of them stops the run.
        var possibleFailures: Set<FailureModel> = []
        /// The items each stage received, by leaf id.
        var inputs: [Int: [Item]] = [:]
        /// Closure calls (attempts included), for placing a cancellation.
        var bodyCalls = 0
        /// Items pushed anywhere: the scenario's size.
        var work = 0
        /// Items the buffers with a drop policy dropped (those the run reported).
        var dropped = 0
        /// Items each expansion processed (admitted), by leaf id.
        var admitted: [Int: Int] = [:]
        /// After an expansion with dedupe and a depth limit (the last stage): the outputs every
        /// complete run has (its inputs); `outputs` are then every output a run may have.
        var floor: [Item]?

        /// Every stage receives distinct items (attempts are counted per item).
        var hasDistinctInputs: Bool {
            inputs.values.allSatisfy { Set($0.map(\.normalized)).count == $0.count }
        }
    }

    struct Oracle {
        let scenario: Scenario
        let leaves: [(leaf: Leaf, qualified: String)]
        /// The items each buffer with a drop policy dropped in the run (by leaf id, normalized):
        /// the oracle drops them there too, and expects every other item to go on.
        let drops: [Int: [Value: Int]]

        init(_ scenario: Scenario, drops: [Int: [Value]] = [:]) {
            self.scenario = scenario
            leaves = scenario.flattened
            self.drops = drops.mapValues { values in values.reduce(into: [:]) { $0[$1.normalized, default: 0] += 1 } }
        }

        /// What the run must produce.
        func expected() -> Trace { run(failFast: true) }
        /// The run with the fail-fast faults recorded but not firing.
        func faultFree() -> Trace { run(failFast: false) }

        func run(failFast: Bool) -> Trace {
            let interpreter = Interpreter(oracle: self, failFast: failFast)
            do {
                try interpreter.runSource()
            } catch {
                interpreter.trace.failure = error.failure
            }
            return interpreter.trace
        }
    }

    private struct Stop: Error {
        var failure: FailureModel
    }

    private final class Interpreter {
        let oracle: Oracle
        let failFast: Bool
        var trace = Trace()
        var pending: [Int: [Value]] = [:]
        var dropsLeft: [Int: [Value: Int]]
        /// What each expansion with dedupe has seen.
        var seen: [Int: Set<Value>] = [:]
        /// The shallowest depth each item was reached at, for an expansion with dedupe and a depth limit.
        var shallowest: [Int: [Value: Int]] = [:]

        init(oracle: Oracle, failFast: Bool) {
            self.oracle = oracle
            self.failFast = failFast
            dropsLeft = oracle.drops
        }

        func runSource() throws(Stop) {
            let s = oracle.scenario
            let sourceFailure = FailureModel(stage: "source", item: nil, attempts: 1)
            for i in 0..<s.count {
                if s.sourceFailsAfter == i { try fail(sourceFailure) }
                try push(.value(.int(i)), 0)
            }
            if let k = s.sourceFailsAfter, k >= s.count { try fail(sourceFailure) }
            // The end: each batch flushes its partial batch into the stages after it, in order.
            for (i, entry) in oracle.leaves.enumerated() {
                if case .batch = entry.leaf.kind, let rest = pending[entry.leaf.id], !rest.isEmpty {
                    pending[entry.leaf.id] = []
                    try push(.value(.list(rest)), i + 1)
                }
                if case .debounce = entry.leaf.kind, let last = pending[entry.leaf.id]?.last {
                    pending[entry.leaf.id] = []
                    try push(.value(last), i + 1)
                }
            }
        }

        /// A fail-fast fault: stops the run, or (fault-free) is only recorded.
        func fail(_ failure: FailureModel) throws(Stop) {
            if failFast { throw Stop(failure: failure) }
            trace.possibleFailures.insert(failure)
        }

        /// How the stage's closure does on `v`: ok or not, after how many attempts, which fault.
        func outcome(_ leaf: Leaf, _ v: Value) -> (ok: Bool, attempts: Int, fault: FaultKind?) {
            guard let fault = oracle.scenario.faults[leaf.id]?[v.normalized] else {
                trace.bodyCalls += 1
                return (true, 1, nil)
            }
            let n = leaf.options.maxAttempts
            let result: (Bool, Int, FaultKind?) = switch fault {
            case .persistent, .midExpansion: (false, n, fault)
            case .transient(let t): t < n ? (true, t + 1, fault) : (false, n, fault)
            }
            trace.bodyCalls += result.1
            return result
        }

        /// `expand` on one input: the items it reaches, each processed (its step called) once and
        /// emitted, depth first. The order does not matter (an expansion emits in completion order,
        /// so its scenarios compare multisets); the set does: with dedupe, every item reachable
        /// from the inputs so far not seen before; without, every path up to `maxDepth`. The items
        /// processed count as the stage's inputs (faults are drawn from them).
        func walk(_ leaf: Leaf, _ plan: ExpandPlan, from root: Value, _ qualified: String, _ next: Int) throws(Stop) {
            if plan.depthByTiming { return try walkWithin(leaf, plan, from: root, qualified, next) }
            func admit(_ v: Value, _ depth: Int) -> Bool {
                if let maxDepth = plan.maxDepth, depth > maxDepth { return false }
                if plan.dedupe != .none, !seen[leaf.id, default: []].insert(v).inserted { return false }
                trace.admitted[leaf.id, default: 0] += 1
                return true
            }
            guard admit(root, 0) else { return }
            var stack = [(root, 0)]
            while let (v, depth) = stack.popLast() {
                if depth > 0 { trace.inputs[leaf.id, default: []].append(.value(v)) }
                let o = outcome(leaf, v)
                if !o.ok { try fail(FailureModel(stage: qualified, item: v, attempts: o.attempts)) }
                try push(.value(v), next)
                for s in plan.graph.successors(v).reversed() where admit(s, depth + 1) { stack.append((s, depth + 1)) }
            }
        }

        /// `expand` with dedupe and `maxDepth`: every item within `maxDepth` of an input once (an
        /// item is revisited when a shorter path reaches it, to find what lies within reach
        /// behind it). Which of them a run visits depends on the timing; it visits every input
        /// (the floor). Only the inputs count as the stage's inputs, so faults fall on items every
        /// run processes.
        func walkWithin(_ leaf: Leaf, _ plan: ExpandPlan, from root: Value, _ qualified: String, _ next: Int) throws(Stop) {
            let maxDepth = plan.maxDepth ?? 0
            trace.floor = (trace.floor ?? []) + [.value(root)]
            var stack = [(root, 0)]
            while let (v, depth) = stack.popLast() {
                if let best = shallowest[leaf.id]?[v], best <= depth { continue }
                let first = shallowest[leaf.id]?[v] == nil
                shallowest[leaf.id, default: [:]][v] = depth
                if first {
                    trace.admitted[leaf.id, default: 0] += 1
                    let o = outcome(leaf, v)
                    if !o.ok { try fail(FailureModel(stage: qualified, item: v, attempts: o.attempts)) }
                    try push(.value(v), next)
                }
                if depth < maxDepth { for s in plan.graph.successors(v).reversed() { stack.append((s, depth + 1)) } }
            }
        }

        func push(_ item: Item, _ i: Int) throws(Stop) {
            trace.work += 1
            guard i < oracle.leaves.count else {
                trace.outputs.append(item)
                return
            }
            let (leaf, qualified) = oracle.leaves[i]
            trace.inputs[leaf.id, default: []].append(item)
            let k = leaf.k
            let next = i + 1
            func failure(_ v: Value, _ attempts: Int) -> FailureModel {
                FailureModel(stage: qualified, item: v, attempts: attempts)
            }

            switch (leaf.kind, item) {
            // Plain stages: a fault fails the run.
            case (.map, .value(let v)), (.mapUsing, .value(let v)):
                let o = outcome(leaf, v)
                if !o.ok { try fail(failure(v, o.attempts)) }
                try push(.value(bump(v, k)), next)
            case (.filter, .value(let v)):
                let o = outcome(leaf, v)
                if !o.ok { try fail(failure(v, o.attempts)) }
                if keep(v, k) { try push(item, next) }
            case (.compactMap, .value(let v)):
                let o = outcome(leaf, v)
                if !o.ok { try fail(failure(v, o.attempts)) }
                if let c = compact(v, k) { try push(.value(c), next) }
            case (.flatMap, .value(let v)):
                let o = outcome(leaf, v)
                let children = expand(v, k)
                var emitted = 0
                if !o.ok {
                    // Without policies an expansion streams: the children before the fault stay
                    // emitted. With policies an item's outputs leave only when it is done.
                    if case .midExpansion(let j) = o.fault, !leaf.options.hasPolicies {
                        for c in children.prefix(j) { try push(.value(c), next) }
                        emitted = min(j, children.count)
                    }
                    try fail(failure(v, o.attempts))
                }
                for c in children.dropFirst(emitted) { try push(.value(c), next) }
            case (.forEach, .value(let v)):
                let o = outcome(leaf, v)
                if !o.ok { try fail(failure(v, o.attempts)) }
                try push(item, next)
            case (.batch(let size, _), .value(let v)):
                pending[leaf.id, default: []].append(v)
                if pending[leaf.id]!.count == size {
                    let full = pending[leaf.id]!
                    pending[leaf.id] = []
                    try push(.value(.list(full)), next)
                }
            case (.debounce, .value(let v)):
                pending[leaf.id] = [v]
            case (.dropBuffer, .value(let v)):
                if let n = dropsLeft[leaf.id]?[v.normalized], n > 0 {
                    dropsLeft[leaf.id]![v.normalized] = n - 1
                    trace.dropped += 1
                } else {
                    try push(item, next)
                }
            case (.translator, .value):
                trace.bodyCalls += 1
                try push(item, next)
            case (.expand(let plan), .value(let v)):
                try walk(leaf, plan, from: v, qualified, next)

            // Entering the railway: a fault is a failure value.
            case (.tryMap, .value(let v)):
                let o = outcome(leaf, v)
                try push(o.ok ? .success(bump(v, k)) : .failure(failure(v, o.attempts)), next)
            case (.tryFlatMap, .value(let v)):
                let o = outcome(leaf, v)
                let children = expand(v, k)
                if o.ok {
                    for c in children { try push(.success(c), next) }
                } else {
                    if case .midExpansion(let j) = o.fault, !leaf.options.hasPolicies {
                        for c in children.prefix(j) { try push(.success(c), next) }
                    }
                    try push(.failure(failure(v, o.attempts)), next)
                }

            // On the railway: closures see successes; failures pass unchanged.
            case (.thenMap, .success(let v)):
                let o = outcome(leaf, v)
                try push(o.ok ? .success(bump(v, k)) : .failure(failure(v, o.attempts)), next)
            case (.thenFilter, .success(let v)):
                let o = outcome(leaf, v)
                if !o.ok {
                    try push(.failure(failure(v, o.attempts)), next)
                } else if keep(v, k) {
                    try push(item, next)
                }
            case (.thenForEach, .success(let v)):
                let o = outcome(leaf, v)
                try push(o.ok ? item : .failure(failure(v, o.attempts)), next)
            case (.thenFlatMap, .success(let v)):
                let o = outcome(leaf, v)
                if o.ok {
                    for c in expand(v, k) { try push(.success(c), next) }
                } else {
                    try push(.failure(failure(v, o.attempts)), next)
                }
            case (.thenMap, .failure), (.thenFilter, .failure), (.thenForEach, .failure), (.thenFlatMap, .failure):
                try push(item, next)
            case (.mapFailure, .failure(var f)):
                trace.bodyCalls += 1
                f.stage += "+"
                try push(.failure(f), next)
            case (.mapFailure, .success), (.auditSuccesses, _), (.auditFailures, _):
                try push(item, next)

            // Leaving the railway.
            case (.recover, .failure(let f)):
                trace.bodyCalls += 1
                try push(.value(.failed(stage: f.stage, item: f.item, attempts: f.attempts)), next)
            case (.recover, .success(let v)), (.successes, .success(let v)):
                try push(.value(v), next)
            case (.failures, .failure(let f)):
                try push(.value(.failed(stage: f.stage, item: f.item, attempts: f.attempts)), next)
            case (.successes, .failure), (.failures, .success):
                break

            default:
                preconditionFailure("soak oracle: \(leaf.kind) cannot receive \(item)")
            }
        }
    }
}
