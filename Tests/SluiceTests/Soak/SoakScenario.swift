// A soak scenario: a random pipeline (as a value), its faults, its terminal and how the caller
// behaves — everything derived from one seed, so a failure is replayed from its seed alone.
import Sluice
import SluiceTestSupport

extension Soak {
    enum Front: String, Sendable { case pipe, builder }

    /// The three forms of `flatMap` (plus an `AsyncSequence` that suspends between items).
    enum Expansion: String, Sendable {
        case sequence        // (A) throws -> Sequence
        case asyncSequence   // (A) async throws -> Sequence
        case stream          // (A) async throws -> AsyncThrowingStream
        case drip            // (A) async throws -> a custom AsyncSequence that yields
        var isAsyncSequence: Bool { self == .stream || self == .drip }
    }

    enum BackoffKind: String, Sendable { case none, fixed, exponential }

    /// How an `expand` stage recognises items it has seen (`.none`: it walks every path).
    enum DedupeKind: String, Sendable { case none, items, key, custom }

    /// An `expand` stage: the graph it walks, its dedupe hook and its limits.
    struct ExpandPlan: Sendable, CustomStringConvertible {
        var graph: Graph
        var dedupe: DedupeKind
        /// Without dedupe: every path up to it. With dedupe (only on the last stage): which path
        /// reaches an item first — and so its depth — depends on the timing (Docs/Expansion.md),
        /// so the outputs are only bounded (`depthByTiming`).
        var maxDepth: Int?
        /// `limit:`: drawn above what the stage processes (it must change nothing) or, for the last
        /// stage of a scenario without fail-fast faults or cancellation, below it (`Scenario.cap`).
        var limit: Int?
        var frontier: Int
        var async: Bool
        /// The limit is drawn below what the stage processes (see `limit`).
        var binding = false

        /// Dedupe and a depth limit: the items visited depend on the timing. Every input is
        /// visited, and nothing farther than `maxDepth` from an input.
        var depthByTiming: Bool { dedupe != .none && maxDepth != nil }

        var description: String {
            var text = "expand(\(async ? "async" : "sync"), \(graph), dedupe \(dedupe.rawValue)"
            if let maxDepth { text += ", maxDepth \(maxDepth)" }
            if let limit { text += ", limit \(limit)\(binding ? " (binding)" : "")" }
            return text + ", frontier \(frontier))"
        }
    }

    struct Retry: Sendable, CustomStringConvertible {
        var attempts: Int
        var backoff: BackoffKind
        var description: String { ".retry(\(attempts)\(backoff == .none ? "" : ", \(backoff)"))" }
    }

    /// Where a (never firing) timeout sits relative to the retry, if there is one; `alone`: around
    /// the retry if any, `aloneBeforeRetry`: inside it, both with no rate limit (an async `map`
    /// then runs its timed kernel, which a watchdog interrupts).
    enum TimeoutPlacement: String, Sendable { case beforeRetry, afterRetry, alone, aloneBeforeRetry }

    /// An observer on the stage, tallying its events (`Probe.events`): synchronous, or
    /// asynchronous (it yields before it tallies, so the worker suspends in it).
    enum ObserverKind: String, Sendable { case synchronous, asynchronous }

    struct Options: Sendable, CustomStringConvertible {
        var workers: Int?
        var buffer: Int?
        var unordered = false
        var name: String?
        var front: Front = .pipe
        var retry: Retry?
        var timeout: TimeoutPlacement?
        var observer: ObserverKind?
        /// Middleware that passes the item through (`.around`), the innermost policy: with a
        /// timeout outermost, the generic policy path whose watchdog interrupts the worker's task.
        var around = false
        /// The stage's workers run on a `BlockingPool` (`.blocking(on:)`).
        var blocking = false
        /// The order the four plain modifiers are written in (a permutation of 0..<4).
        var modifierOrder: [Int] = [0, 1, 2, 3]
        /// `.ordered(window:)` (written after the plain modifiers; only on an ordered stage).
        var window: Int?
        /// `.buffer(maxWeight:weight:)`, weighing an item by the length of its description.
        var maxWeight: Int?

        var hasPolicies: Bool { retry != nil || timeout != nil || observer != nil || around }
        var maxAttempts: Int { retry?.attempts ?? 1 }
        /// Emits in completion order (only a multi-worker unordered stage can reorder).
        var reorders: Bool { unordered && (workers ?? 1) > 1 }

        var description: String {
            var text = around ? ".around" : ""
            if timeout == .beforeRetry || timeout == .aloneBeforeRetry { text += ".timeout" }
            if let retry { text += retry.description }
            if timeout == .afterRetry || timeout == .alone { text += ".timeout" }
            if let observer { text += ".observe(\(observer.rawValue))" }
            if let workers { text += ".workers(\(workers))" }
            if let buffer { text += ".buffer(\(buffer))" }
            if unordered { text += ".unordered()" }
            if let window { text += ".ordered(window: \(window))" }
            if let maxWeight { text += ".buffer(maxWeight: \(maxWeight))" }
            if let name { text += ".named(\"\(name)\")" }
            if blocking { text += ".blocking(on: pool)" }
            if front == .builder { text += "[builder]" }
            return text
        }
    }

    enum LeafKind: Sendable, CustomStringConvertible {
        case map(async: Bool)
        case filter(async: Bool)
        case compactMap(async: Bool)
        case flatMap(Expansion)
        case forEach(async: Bool)
        /// `batch(size) | map(Value.list)`; `grouped`: the options apply to both as one fragment.
        case batch(size: Int, grouped: Bool)
        /// `debounce(for:)` on the frozen clock: time never passes, so it emits the last item of
        /// its input at the end of the input (none if the run fails or stops first).
        case debounce
        /// `map { $0 }.buffer(size, whenFull:)`: drops while the stages after it are slower; every
        /// drop is recorded (`onDrop`) and the oracle is run again without the dropped items.
        case dropBuffer(size: Int, oldest: Bool)
        /// `map(using:teardown:_:)` with a per-worker resource.
        case mapUsing
        /// An async map that turns its own cancellation into `Translated` (issue 10, item 3).
        case translator
        /// `expand` over a generated graph: outputs each item it processes (completion order).
        case expand(ExpandPlan)
        // The railway.
        case tryMap(async: Bool)
        case tryFlatMap(Expansion)
        case thenMap(async: Bool)
        case thenFilter(async: Bool)
        case thenForEach(async: Bool)
        case thenFlatMap
        case mapFailure(async: Bool)
        /// Counting stages at the end of a railway block (a thenForEach and a mapFailure).
        case auditSuccesses
        case auditFailures
        case recover(async: Bool)
        case successes
        /// `failures() | map(Value.failed)`.
        case failures

        /// The stage's default name (its kind), as the library reports it.
        var defaultName: String {
            switch self {
            case .map, .mapUsing, .translator: "map"
            case .filter: "filter"
            case .compactMap: "compactMap"
            case .flatMap: "flatMap"
            case .forEach: "forEach"
            case .batch: "batch"
            case .debounce: "debounce"
            case .dropBuffer: "buffer"
            case .expand: "expand"
            case .tryMap: "tryMap"
            case .tryFlatMap: "tryFlatMap"
            case .thenMap: "thenMap"
            case .thenFilter: "thenFilter"
            case .thenForEach, .auditSuccesses: "thenForEach"
            case .thenFlatMap: "thenFlatMap"
            case .mapFailure, .auditFailures: "mapFailure"
            case .recover: "recover"
            case .successes: "successes"
            case .failures: "failures"
            }
        }

        /// A thrown error fails the run (not a railway closure).
        var failsFast: Bool {
            switch self {
            case .map, .filter, .compactMap, .flatMap, .forEach, .mapUsing, .expand: true
            default: false
            }
        }

        var isExpand: Bool {
            if case .expand = self { return true }
            return false
        }

        /// A railway closure whose errors become failure values.
        var failsOnRails: Bool {
            switch self {
            case .tryMap, .tryFlatMap, .thenMap, .thenFilter, .thenForEach, .thenFlatMap: true
            default: false
            }
        }

        /// Emits exactly one item per input (the memory bound is documented for these only).
        var isOneToOne: Bool {
            switch self {
            case .map, .forEach, .mapUsing, .translator, .tryMap, .thenMap, .thenForEach,
                 .mapFailure, .auditSuccesses, .auditFailures, .recover: true
            default: false
            }
        }

        /// Can fail after emitting part of an expansion.
        var expandsAsync: Bool {
            switch self {
            case .flatMap(let e), .tryFlatMap(let e): e.isAsyncSequence
            default: false
            }
        }

        var isFlatMap: Bool {
            switch self {
            case .flatMap, .tryFlatMap, .thenFlatMap: true
            default: false
            }
        }

        var isBatch: Bool {
            if case .batch = self { return true }
            return false
        }

        /// A timed stage that loses items by design (`debounce`, a buffer that drops): it takes
        /// no options and stands only at the top level, never after a stage that reorders.
        var isLossy: Bool {
            switch self {
            case .debounce, .dropBuffer: true
            default: false
            }
        }

        var description: String {
            func a(_ async: Bool) -> String { async ? "async" : "sync" }
            return switch self {
            case .map(let x): "map(\(a(x)))"
            case .filter(let x): "filter(\(a(x)))"
            case .compactMap(let x): "compactMap(\(a(x)))"
            case .flatMap(let e): "flatMap(\(e.rawValue))"
            case .forEach(let x): "forEach(\(a(x)))"
            case .batch(let n, let g): "batch(\(n)\(g ? ", grouped" : ""))"
            case .debounce: "debounce"
            case .dropBuffer(let n, let oldest): "buffer(\(n), whenFull: \(oldest ? "dropOldest" : "dropNewest"))"
            case .mapUsing: "map(using:)"
            case .translator: "translator"
            case .expand(let plan): "\(plan)"
            case .tryMap(let x): "tryMap(\(a(x)))"
            case .tryFlatMap(let e): "tryFlatMap(\(e.rawValue))"
            case .thenMap(let x): "thenMap(\(a(x)))"
            case .thenFilter(let x): "thenFilter(\(a(x)))"
            case .thenForEach(let x): "thenForEach(\(a(x)))"
            case .thenFlatMap: "thenFlatMap"
            case .mapFailure(let x): "mapFailure(\(a(x)))"
            case .auditSuccesses: "audit(successes)"
            case .auditFailures: "audit(failures)"
            case .recover(let x): "recover(\(a(x)))"
            case .successes: "successes"
            case .failures: "failures"
            }
        }
    }

    struct Leaf: Sendable, CustomStringConvertible {
        var id: Int
        var kind: LeafKind
        var k: Int
        var options: Options
        var name: String { options.name ?? kind.defaultName }
        var description: String { "#\(id) \(kind)\(options)" }
        /// Emits in completion order: a multi-worker unordered stage, or an expansion (a stack).
        var reorders: Bool { options.reorders || kind.isExpand }
    }

    /// `enter | stays… | leave`: a stretch of railway. `leave == nil` only for a pipeline that
    /// ends on the railway (its terminal is `partition()`, `collect()` or a loop over `Result`s).
    struct RailBlock: Sendable {
        var id: Int
        var enter: Leaf
        var stays: [Leaf]
        var leave: Leaf?
        var front: Front
        var leaves: [Leaf] { [enter] + stays + (leave.map { [$0] } ?? []) }
        /// No stage changes the number of items: successes + failures + filtered == entered.
        var isAccountable: Bool { !leaves.contains { $0.kind.isFlatMap } }
    }

    /// What a group is run as: a plain fragment, or one of the graph shapes that give the same
    /// items (a route to two copies of the children, a broadcast to the children and a branch that
    /// drops everything, a partitioned stage — which reorders across keys, so it is `unordered`).
    enum GroupShape: String, Sendable { case plain, route, broadcast, partitioned }

    struct Group: Sendable {
        var id: Int
        var children: [Node]
        var options: Options
        var shape: GroupShape = .plain
        /// No modifier is applied: the children's stages are simply concatenated, so they run as
        /// if written at the group's level, each with its own options.
        var isTransparent: Bool {
            shape == .plain && options.workers == nil && options.buffer == nil && !options.unordered && options.name == nil && !options.blocking
        }
    }

    indirect enum Node: Sendable {
        case leaf(Leaf)
        case rail(RailBlock)
        case group(Group)

        /// The leaves in order, each with its qualified name (the names of the named groups
        /// around it, outermost first, then its own).
        func flattened(prefix: [String] = []) -> [(leaf: Leaf, qualified: String)] {
            switch self {
            case .leaf(let leaf): [(leaf, (prefix + [leaf.name]).joined(separator: "/"))]
            case .rail(let block): block.leaves.map { ($0, (prefix + [$0.name]).joined(separator: "/")) }
            case .group(let group):
                group.children.flatMap { $0.flattened(prefix: prefix + (group.options.name.map { [$0] } ?? [])) }
            }
        }

        /// Does this node, as run at the top level, emit in completion order?
        var reorders: Bool {
            switch self {
            case .leaf(let leaf): leaf.reorders
            case .rail(let block): block.leaves.contains { $0.options.reorders }
            case .group(let group) where group.isTransparent: group.children.contains(where: \.reorders)
            // An expansion inside a group runs each item's walk in the enclosing worker, in an
            // order the oracle does not follow.
            case .group(let group): group.options.reorders || group.children.contains { $0.flattened().contains { $0.leaf.kind.isExpand } }
            }
        }

        /// The nodes as the pipeline runs them: transparent groups dissolved.
        var runNodes: [Node] {
            if case .group(let group) = self, group.isTransparent { return group.children.flatMap(\.runNodes) }
            return [self]
        }

        func describe(_ indent: String = "") -> String {
            switch self {
            case .leaf(let leaf): return indent + leaf.description
            case .rail(let block):
                return indent + "railway#\(block.id)[\(block.front.rawValue)] {\n"
                    + block.leaves.map { indent + "  " + $0.description }.joined(separator: "\n") + "\n" + indent + "}"
            case .group(let group):
                return indent + "group#\(group.id)\(group.shape == .plain ? "" : "[\(group.shape.rawValue)]")\(group.options) {\n"
                    + group.children.map { $0.describe(indent + "  ") }.joined(separator: "\n") + "\n" + indent + "}"
            }
        }
    }

    enum SourceKind: String, Sendable {
        case sequence        // Pipeline(someSequence)
        case applied         // flow(someSequence): callAsFunction
        case stream          // a pre-filled AsyncThrowingStream
        case unfolding       // AsyncThrowingStream(unfolding:)
        case drip            // a custom AsyncSequence that suspends now and then
        case deferred        // Pipeline { … } (deferred)
        case concat          // Pipeline.concat of three parts of the items (one empty)
        case merge           // Pipeline.merge of two halves: completion order from the start
        case zip             // Pipeline.zip of the items and their partners (ZipPlan), unzipped by a map
        var isAsync: Bool { self == .stream || self == .unfolding || self == .drip }
    }

    /// A `zip` source: the scenario's `count` is the shorter input's length, the other has `extra`
    /// more items; with `sourceFailsAfter` (always below `count`), one input fails after that many.
    struct ZipPlan: Sendable, CustomStringConvertible {
        var longerFirst = true
        var extra = 0
        var failingFirst = true

        func counts(_ count: Int) -> (first: Int, second: Int) {
            longerFirst ? (count + extra, count) : (count, count + extra)
        }

        var description: String { "longer \(longerFirst ? "first" : "second") by \(extra)" }
    }

    enum Terminal: Sendable, CustomStringConvertible {
        case collect
        case count
        case take(Int)
        case first
        /// `reduce(into:)`, recording each output.
        case reduceInto
        /// `reduce(_:_:)` with an async closure that stalls `stall` yields per output.
        case reduceAsync(stall: Int)
        /// `forEach`, stalling `stall` yields per output, optionally throwing at output `throwAt`.
        case forEach(stall: Int, throwAt: Int?)
        /// `for try await`, optionally `break`ing after `breakAfter` outputs.
        case loop(stall: Int, breakAfter: Int?)
        case partition

        var description: String {
            switch self {
            case .collect: "collect()"
            case .count: "count()"
            case .take(let n): "take(\(n))"
            case .first: "first()"
            case .reduceInto: "reduce(into:)"
            case .reduceAsync(let s): "reduce(async, stall \(s))"
            case .forEach(let s, let t): "forEach(stall \(s)\(t.map { ", throw at \($0)" } ?? ""))"
            case .loop(let s, let b): "for try await (stall \(s)\(b.map { ", break after \($0)" } ?? ""))"
            case .partition: "partition()"
            }
        }

        /// Outputs the consumer sees one by one (visible even when the run then fails).
        var seesEachOutput: Bool {
            switch self {
            case .reduceInto, .reduceAsync, .forEach, .loop: true
            default: false
            }
        }

        /// How many outputs the terminal needs before it stops on its own.
        var needs: Int? {
            switch self {
            case .take(let n): n
            case .first: 1
            case .loop(_, let b): b
            default: nil
            }
        }

        var isBreak: Bool {
            if case .loop(_, .some) = self { return true }
            return false
        }
    }

    /// An injected fault, per (stage, item).
    enum FaultKind: Hashable, Sendable, CustomStringConvertible {
        /// Every attempt throws.
        case persistent
        /// The first `n` attempts throw, later ones succeed.
        case transient(Int)
        /// An async expansion emits `n` children, then throws (every attempt).
        case midExpansion(Int)

        var description: String {
            switch self {
            case .persistent: "persistent"
            case .transient(let n): "transient(\(n))"
            case .midExpansion(let n): "after \(n) children"
            }
        }
    }

    /// How the caller cancels the run, if it does.
    enum CancelPlan: Sendable, CustomStringConvertible {
        /// When the `n`th stage body starts (counted over every stage).
        case atBodyStart(Int)
        /// When the consumer receives its `n`th output.
        case atOutput(Int)
        var description: String {
            switch self {
            case .atBodyStart(let n): "cancel at body start \(n)"
            case .atOutput(let n): "cancel at output \(n)"
            }
        }
    }

    struct Scenario: Sendable, CustomStringConvertible {
        var seed: UInt64
        var source: SourceKind
        var sourceFront: Front
        var count: Int
        /// The source throws after this many items (async sources; 0 for a deferred source).
        var sourceFailsAfter: Int?
        var nodes: [Node]
        /// A final railway block without a leave stage: the pipeline's elements are `Result`s.
        var openRail: RailBlock?
        var terminal: Terminal
        var cancel: CancelPlan?
        var faults: [Int: [Value: FaultKind]] = [:]
        var zip = ZipPlan()

        /// A binding `limit` on the last stage, an expansion: the run delivers that many of the
        /// outputs (or all of them, if fewer) — which ones depends on the timing.
        var cap: Int? {
            guard openRail == nil, case .leaf(let leaf)? = nodes.last, case .expand(let plan) = leaf.kind, plan.binding else { return nil }
            return plan.limit
        }

        var flattened: [(leaf: Leaf, qualified: String)] {
            nodes.flatMap { $0.flattened() } + (openRail.map { Node.rail($0).flattened() } ?? [])
        }

        var allNodes: [Node] { nodes + (openRail.map { [Node.rail($0)] } ?? []) }

        var railBlocks: [RailBlock] {
            func blocks(_ node: Node) -> [RailBlock] {
                switch node {
                case .leaf: []
                case .rail(let b): [b]
                case .group(let g): g.children.flatMap(blocks)
                }
            }
            return allNodes.flatMap(blocks)
        }

        enum Comparison: String { case exact, multiset, atoms }

        /// Ordered runs must match exactly. A reordering stage makes the run a multiset; a batch
        /// after one also regroups the items, leaving only the atoms comparable.
        var comparison: Comparison {
            let top = allNodes.flatMap(\.runNodes)
            if source == .merge { return top.flatMap { $0.flattened() }.contains { $0.leaf.kind.isBatch } ? .atoms : .multiset }
            guard let shuffle = top.firstIndex(where: \.reorders) else { return .exact }
            let after = top[(shuffle + 1)...].flatMap { $0.flattened() }
            // Inside the reordering node itself, a batch after the reordering leaf regroups too.
            let inside = top[shuffle].flattened().drop { !$0.leaf.reorders }.dropFirst()
            return (after + inside).contains { $0.leaf.kind.isBatch } ? .atoms : .multiset
        }

        /// Every stage emits one item per input: the documented memory bound applies.
        var isOneToOne: Bool { flattened.allSatisfy { $0.leaf.kind.isOneToOne } }

        var description: String {
            var text = "seed \(seed): \(source.rawValue)[\(sourceFront.rawValue)] source of \(count)"
            if source == .zip { text += " (\(zip)\(sourceFailsAfter != nil ? ", the \(zip.failingFirst ? "first" : "second") failing" : ""))" }
            if let sourceFailsAfter { text += ", failing after \(sourceFailsAfter)" }
            text += "\n" + allNodes.map { $0.describe("  ") }.joined(separator: "\n")
            text += "\n  → \(terminal)"
            if let cancel { text += ", \(cancel)" }
            let named = flattened.filter { faults[$0.leaf.id]?.isEmpty == false }
            for (leaf, qualified) in named {
                let list = faults[leaf.id]!.sorted { $0.key.description < $1.key.description }
                    .prefix(8).map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                text += "\n  faults in \(qualified) (#\(leaf.id)): \(list)\(faults[leaf.id]!.count > 8 ? ", …" : "")"
            }
            return text
        }
    }
}

// MARK: - The random generator

extension Soak.Scenario {
    /// The scenario of one seed.
    static func random(seed: UInt64) -> Soak.Scenario {
        var attempt: UInt64 = 0
        while true {
            // Regenerate (deterministically) while the scenario is too large, or (rarely) while a
            // stage would receive two equal items.
            var generator = Soak.Generator(rng: TestRandom(seed: attempt == 0 ? seed : seed &+ 0x5EED &* attempt))
            var scenario = generator.scenario(seed: seed, maxCount: attempt == 0 ? 300 : 60)
            attempt += 1
            let limit = scenario.terminal.needs != nil || scenario.isOneToOne ? 30_000 : 4_000
            if Soak.Oracle(scenario).faultFree().work > limit, attempt < 8 { continue }
            generator.addFaults(&scenario)
            if !Soak.Oracle(scenario).faultFree().hasDistinctInputs, attempt < 16 { continue }
            return scenario
        }
    }
}

extension Soak {
    struct Generator {
        var rng: TestRandom
        var nextID = 0
        /// Only stages that emit one item per input: the memory bound is checked.
        var oneToOne = false

        mutating func chance(_ percent: Int) -> Bool { rng.next(upTo: 100) < percent }
        mutating func pick<T>(_ xs: [T]) -> T { xs[rng.next(upTo: xs.count)] }
        mutating func id() -> Int {
            nextID += 1
            return nextID
        }

        mutating func scenario(seed: UInt64, maxCount: Int = 300) -> Scenario {
            oneToOne = chance(10)
            if oneToOne { return boundScenario(seed: seed) }
            var count = switch rng.next(upTo: 20) {
            case 0: 0
            case 1: 1
            case 2, 3: 2 + rng.next(upTo: 6)
            case 4, 5: 60 + rng.next(upTo: maxCount - 59)
            default: rng.next(upTo: 61)
            }
            let source: SourceKind = pick([.sequence, .sequence, .applied, .stream, .unfolding, .drip, .deferred, .concat, .merge, .zip])
            var zip = ZipPlan()
            if source == .zip {
                // Equal inputs, or one longer (with `count == 0`: one or both empty).
                zip.longerFirst = chance(50)
                zip.extra = chance(30) ? 0 : 1 + rng.next(upTo: 70)
            }
            // A merge source delivers in completion order: it reorders from the start.
            var nodes = withoutLossyAfterReordering((0..<(1 + rng.next(upTo: 4))).map { _ in node(depth: 0) }, reorderedSource: source == .merge)
            let openRail: RailBlock? = chance(12) ? railBlock(open: true) : nil
            nodes = withDepthByTimingLast(nodes, openRail: openRail != nil)
            let terminal: Terminal
            if openRail != nil {
                terminal = switch rng.next(upTo: 4) {
                case 0, 1: .partition
                case 2: .collect
                default: .loop(stall: 0, breakAfter: chance(50) ? 1 + rng.next(upTo: 20) : nil)
                }
            } else {
                terminal = randomTerminal()
            }
            // A terminal that stops early meets a large source now and then: what it leaves unread
            // must stay unread.
            if terminal.needs != nil, chance(35) { count = 300 + rng.next(upTo: 1_700) }
            var scenario = Scenario(seed: seed, source: source, sourceFront: chance(50) ? .pipe : .builder,
                                    count: count, sourceFailsAfter: nil, nodes: nodes, openRail: openRail,
                                    terminal: terminal, cancel: nil)
            scenario.zip = zip
            return scenario
        }

        /// A lossy stage after one that reorders (or after a merge source) would lose items that
        /// depend on the order: it becomes a plain synchronous `map` there.
        func withoutLossyAfterReordering(_ nodes: [Node], reorderedSource: Bool = false) -> [Node] {
            var reordered = reorderedSource
            return nodes.map { node in
                var node = node
                if case .leaf(var leaf) = node, leaf.kind.isLossy, reordered {
                    leaf.kind = .map(async: false)
                    node = .leaf(leaf)
                }
                if node.reorders { reordered = true }
                return node
            }
        }

        /// An expansion with dedupe and a depth limit visits a set that depends on the timing, so
        /// only the last stage may be one (with no railway left open): elsewhere it loses its depth limit.
        func withDepthByTimingLast(_ nodes: [Node], openRail: Bool) -> [Node] {
            nodes.enumerated().map { i, node in
                guard case .leaf(var leaf) = node, case .expand(var plan) = leaf.kind, plan.depthByTiming,
                      i < nodes.count - 1 || openRail else { return node }
                plan.maxDepth = nil
                leaf.kind = .expand(plan)
                return .leaf(leaf)
            }
        }

        /// One-to-one stages, a larger source and a stalled consumer: the memory bound is reached.
        mutating func boundScenario(seed: UInt64) -> Scenario {
            let count = 100 + rng.next(upTo: 500)
            let source: SourceKind = pick([.sequence, .applied, .stream, .unfolding, .drip, .deferred])
            let nodes = (0..<(1 + rng.next(upTo: 4))).map { _ in node(depth: 0) }
            let stall = 5 + rng.next(upTo: 40)
            let terminal: Terminal = switch rng.next(upTo: 3) {
            case 0: .forEach(stall: stall, throwAt: nil)
            case 1: .reduceAsync(stall: stall)
            default: .loop(stall: stall, breakAfter: chance(30) ? 1 + rng.next(upTo: 200) : nil)
            }
            return Scenario(seed: seed, source: source, sourceFront: chance(50) ? .pipe : .builder, count: count,
                            sourceFailsAfter: nil, nodes: nodes, openRail: nil, terminal: terminal, cancel: nil)
        }

        mutating func randomTerminal() -> Terminal {
            switch rng.next(upTo: 20) {
            case 0, 1, 2: .collect
            case 3: .count
            case 4, 5: .take(1 + rng.next(upTo: 30))
            case 6: .first
            case 7, 8: .reduceInto
            case 9: .reduceAsync(stall: chance(50) ? 0 : 1 + rng.next(upTo: 20))
            case 10, 11, 12, 13:
                .forEach(stall: chance(40) ? 0 : 1 + rng.next(upTo: 40), throwAt: chance(15) ? rng.next(upTo: 40) : nil)
            default:
                .loop(stall: chance(60) ? 0 : 1 + rng.next(upTo: 20), breakAfter: chance(50) ? 1 + rng.next(upTo: 40) : nil)
            }
        }

        mutating func options(batch: Bool = false, policies: Bool, named: Int = 50) -> Options {
            var o = Options()
            if !batch, chance(55) { o.workers = 1 + rng.next(upTo: 4) }
            if batch, chance(20) { o.workers = 1 }
            switch rng.next(upTo: 10) {
            case 0, 1, 2: o.buffer = 0
            case 3, 4: o.buffer = 1
            case 5, 6: o.buffer = 2 + rng.next(upTo: 7)
            case 7: o.buffer = 512
            default: break
            }
            o.unordered = chance(25)
            if chance(named) { o.name = "s\(nextID)" }
            o.front = chance(50) ? .pipe : .builder
            if policies, chance(25) {
                o.retry = Retry(attempts: 2 + rng.next(upTo: 3), backoff: pick([.none, .none, .fixed, .exponential]))
            }
            if policies, chance(8) { o.timeout = chance(50) ? .beforeRetry : .afterRetry }
            if policies, o.timeout == nil, chance(8) { o.timeout = o.retry != nil && chance(50) ? .aloneBeforeRetry : .alone }
            if policies, chance(10) { o.around = true }
            if policies, chance(12) { o.observer = chance(50) ? .synchronous : .asynchronous }
            if !batch, chance(8) { o.blocking = true }
            var order = [0, 1, 2, 3]
            for i in stride(from: 3, to: 0, by: -1) { order.swapAt(i, rng.next(upTo: i + 1)) }
            o.modifierOrder = order
            if !o.unordered, (o.workers ?? 1) > 1, chance(30) { o.window = 1 + rng.next(upTo: 8) }
            if chance(8) { o.maxWeight = 1 + rng.next(upTo: 12) }
            return o
        }

        mutating func leaf(_ kind: LeafKind, policies: Bool = true) -> Leaf {
            let id = id()
            var o = options(batch: kind.isBatch, policies: policies && !kind.isBatch)
            if kind.isBatch { o.name = nil }
            if kind.isLossy { o = Options(front: o.front) }
            // A failure value carries its stage's name: two railway stages both called `tryMap`
            // could make equal values, and the checks need the items at a stage to be distinct.
            if kind.failsOnRails, o.name == nil { o.name = "s\(id)" }
            return Leaf(id: id, kind: kind, k: rng.next(upTo: 1000), options: o)
        }

        mutating func node(depth: Int) -> Node {
            switch rng.next(upTo: 100) {
            case 0..<16 where depth < 2: return .group(group(depth: depth))
            case 16..<34: return .rail(railBlock(open: false))
            default: return .leaf(plainLeaf(topLevel: depth == 0))
            }
        }

        mutating func plainLeaf(topLevel: Bool = false) -> Leaf {
            let async = chance(50)
            if oneToOne {
                let kind: LeafKind = pick([.map(async: async), .map(async: async), .forEach(async: async), .mapUsing, .translator])
                return leaf(kind, policies: kind.failsFast)
            }
            let draw = rng.next(upTo: 29)
            if draw >= 27 { return expandLeaf(topLevel: topLevel) }
            // The lossy stages are timed: a segment of their own, only at the top level.
            if draw >= 24 {
                let kind: LeafKind = !topLevel ? .map(async: async)
                    : draw == 24 ? .debounce : .dropBuffer(size: 1 + rng.next(upTo: 4), oldest: chance(50))
                return leaf(kind, policies: kind.failsFast)
            }
            let kind: LeafKind = switch draw {
            case 0, 1, 2, 3: .map(async: async)
            case 4, 5, 6: .filter(async: async)
            case 7, 8: .compactMap(async: async)
            case 9, 10, 11, 12: .flatMap(pick([.sequence, .asyncSequence, .stream, .drip]))
            case 13, 14: .forEach(async: async)
            case 15, 16, 17: .batch(size: 1 + rng.next(upTo: 5), grouped: chance(30))
            case 18, 19: .mapUsing
            default: .translator
            }
            return leaf(kind, policies: kind.failsFast)
        }

        /// An `expand` over a generated graph with cycles. With dedupe (top level only): no depth
        /// limit, whose effect would depend on the timing. Without: a depth limit, and each path a
        /// new item. Inside a group an expansion runs in the enclosing workers, each with its own
        /// dedupe (and a route has two copies): only the walks without dedupe are the same there.
        /// A `limit` (top level only) gets its value in `addFaults`.
        mutating func expandLeaf(topLevel: Bool) -> Leaf {
            let walks = !topLevel || chance(35)
            var plan = ExpandPlan(graph: Graph(nodes: 1 + rng.next(upTo: 16), k: rng.next(upTo: 1000), walks: walks),
                                  dedupe: walks ? .none : pick([.items, .key, .custom]),
                                  maxDepth: walks ? rng.next(upTo: 4) : nil, limit: nil,
                                  frontier: pick([1, 2, 4, 1024, 1024]), async: chance(50))
            if !walks, chance(30) {
                plan.maxDepth = 1 + rng.next(upTo: 3)
            } else if topLevel, chance(35) {
                plan.limit = 1
                plan.binding = chance(60)
            }
            return leaf(.expand(plan), policies: false)
        }

        /// Gives each `limit` its value from what the expansion processes without faults: above it
        /// (it must change nothing), or — on the last stage, with no open railway — below it.
        mutating func resolveLimits(_ scenario: inout Scenario, _ trace: Trace) {
            for i in scenario.nodes.indices {
                guard case .leaf(var leaf) = scenario.nodes[i], case .expand(var plan) = leaf.kind, plan.limit != nil else { continue }
                let processed = trace.admitted[leaf.id] ?? 0
                if plan.binding, i == scenario.nodes.count - 1, scenario.openRail == nil, processed >= 2 {
                    plan.limit = 1 + rng.next(upTo: processed - 1)
                } else {
                    plan.binding = false
                    plan.limit = processed + 1 + rng.next(upTo: 20)
                }
                leaf.kind = .expand(plan)
                scenario.nodes[i] = .leaf(leaf)
            }
        }

        mutating func railBlock(open: Bool) -> RailBlock {
            let blockID = id()
            let enter = leaf(chance(70) || oneToOne ? .tryMap(async: chance(50)) : .tryFlatMap(pick([.sequence, .stream])))
            var stays: [Leaf] = []
            for _ in 0..<rng.next(upTo: 4) {
                let async = chance(50)
                var kind: LeafKind = switch rng.next(upTo: 9) {
                case 0, 1, 2: .thenMap(async: async)
                case 3, 4: .thenFilter(async: async)
                case 5: .thenForEach(async: async)
                case 6: .thenFlatMap
                default: .mapFailure(async: async)
                }
                if oneToOne { kind = pick([.thenMap(async: async), .thenForEach(async: async), .mapFailure(async: async)]) }
                stays.append(leaf(kind, policies: kind.failsOnRails))
            }
            stays.append(leaf(.auditSuccesses, policies: false))
            stays.append(leaf(.auditFailures, policies: false))
            var leave: Leaf?
            if !open {
                var kind: LeafKind = switch rng.next(upTo: 4) {
                case 0, 1: .recover(async: chance(50))
                case 2: .successes
                default: .failures
                }
                if oneToOne { kind = .recover(async: chance(50)) }
                leave = leaf(kind, policies: false)
            }
            return RailBlock(id: blockID, enter: enter, stays: stays, leave: leave, front: chance(50) ? .pipe : .builder)
        }

        mutating func group(depth: Int) -> Group {
            let groupID = id()
            let children = (0..<(2 + rng.next(upTo: 2))).map { _ in node(depth: depth + 1) }
            let containsBatch = children.contains { $0.flattened().contains { $0.leaf.kind.isBatch } }
            var o = options(batch: containsBatch, policies: false, named: 60)
            if o.name != nil { o.name = "g\(groupID)" }
            var shape = GroupShape.plain
            if !containsBatch {
                // A broadcast gathers an item's outputs: an expansion's children before a failure
                // would not leave as they do from a plain group.
                let expands = children.contains { $0.flattened().contains { $0.leaf.kind.isFlatMap } }
                switch rng.next(upTo: 20) {
                case 0, 1, 2: shape = .route
                case 3 where !expands, 4 where !expands: shape = .broadcast
                case 5, 6, 7: shape = .partitioned
                default: break
                }
            }
            if shape == .partitioned { o.unordered = true }   // ordered within a key only
            return Group(id: groupID, children: children, options: o, shape: shape)
        }

        // MARK: faults, cancellation and the terminal's numbers

        /// Chooses the faults from what really reaches each stage (the fault-free trace), the
        /// caller's cancellation, and the terminal's counts.
        mutating func addFaults(_ scenario: inout Scenario) {
            let leaves = scenario.flattened.map(\.leaf)
            let comparison = scenario.comparison
            // Lists can fail only where batches are not regrouped (their content is then known).
            func eligible(_ item: Item) -> Value? {
                guard let v = item.plainOrSuccess else { return nil }
                if v.isList && comparison == .atoms { return nil }
                return v.normalized
            }
            // 1. Railway failures (values, not run failures): a share of each railway stage's items.
            var trace = Oracle(scenario).faultFree()
            for leaf in leaves where leaf.kind.failsOnRails && chance(75) {
                let rate = pick([10, 30, 60])
                var faults: [Value: FaultKind] = [:]
                for item in trace.inputs[leaf.id] ?? [] {
                    guard let v = eligible(item), chance(rate) else { continue }
                    faults[v] = faultKind(for: leaf, value: v)
                }
                scenario.faults[leaf.id] = faults
            }
            // 2. The caller: a cancelled caller, or faults that fail the run (not both: a run that
            //    fails and is cancelled may end either way). Not with a binding `limit`: the run
            //    stops reading its input when it is reached, so it could not fail or be cancelled
            //    as a run that reads everything does.
            trace = Oracle(scenario).faultFree()
            resolveLimits(&scenario, trace)
            if scenario.cap != nil {
                if case .forEach(let stall, .some) = scenario.terminal { scenario.terminal = .forEach(stall: stall, throwAt: nil) }
            } else if chance(18) {
                let bodies = max(1, trace.bodyCalls)
                scenario.cancel = chance(70) ? .atBodyStart(1 + rng.next(upTo: bodies)) : .atOutput(1 + rng.next(upTo: max(1, trace.outputs.count)))
                if case .forEach(let stall, .some) = scenario.terminal { scenario.terminal = .forEach(stall: stall, throwAt: nil) }
            } else if chance(65) {
                let candidates = leaves.filter { $0.kind.failsFast && !(trace.inputs[$0.id] ?? []).isEmpty }
                for _ in 0..<(1 + rng.next(upTo: 3)) where !candidates.isEmpty {
                    let leaf = pick(candidates)
                    let inputs = trace.inputs[leaf.id]!
                    guard let v = eligible(inputs[rng.next(upTo: inputs.count)]) else { continue }
                    scenario.faults[leaf.id, default: [:]][v] = faultKind(for: leaf, value: v)
                }
                if scenario.source.isAsync, chance(25) {
                    scenario.sourceFailsAfter = rng.next(upTo: scenario.count + 1)
                } else if scenario.source == .zip, scenario.count > 0, chance(25) {
                    // Before the shorter input ends: which of an ending and a failing input the
                    // zip meets first would depend on the timing.
                    scenario.sourceFailsAfter = rng.next(upTo: scenario.count)
                    scenario.zip.failingFirst = chance(50)
                } else if scenario.source == .deferred, chance(8) {
                    scenario.sourceFailsAfter = 0
                }
            }
            // 3. The terminal's numbers, from the expected outputs.
            let outputs = max(1, Oracle(scenario).faultFree().outputs.count)
            switch scenario.terminal {
            case .take: scenario.terminal = .take(1 + rng.next(upTo: outputs + 2))
            case .loop(let stall, .some): scenario.terminal = .loop(stall: stall, breakAfter: 1 + rng.next(upTo: outputs + 1))
            case .forEach(let stall, .some): scenario.terminal = .forEach(stall: stall, throwAt: rng.next(upTo: outputs + 1))
            default: break
            }
        }

        mutating func faultKind(for leaf: Leaf, value: Value) -> FaultKind {
            if leaf.kind.expandsAsync, chance(50) {
                return .midExpansion(rng.next(upTo: Soak.expand(value, leaf.k).count + 1))
            }
            if let retry = leaf.options.retry, chance(60) {
                // Sometimes recovers within the attempts, sometimes just not.
                return .transient(1 + rng.next(upTo: retry.attempts))
            }
            return chance(80) ? .persistent : .transient(1)
        }
    }
}
