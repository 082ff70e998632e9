// The soak checks itself: the oracle computes what it should, every check can fail (a wrong run
// is caught and classified), and the generator keeps the invariants the checks rely on.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct SoakSelfTests {
    typealias V = Soak.Value

    /// `Pipeline(0..<6) | op.map { 3x }.named("parse")`, failing on item 3, consumed by `forEach`.
    static func mapScenario(_ terminal: Soak.Terminal = .forEach(stall: 0, throwAt: nil), workers: Int? = nil, unordered: Bool = false) -> Soak.Scenario {
        var options = Soak.Options(name: "parse")
        options.workers = workers
        options.unordered = unordered
        let leaf = Soak.Leaf(id: 1, kind: .map(async: false), k: 0, options: options)
        var s = Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: 6, sourceFailsAfter: nil,
                              nodes: [.leaf(leaf)], openRail: nil, terminal: terminal, cancel: nil)
        s.faults[1] = [.int(3): .persistent]
        return s
    }

    static func failure(_ stage: String, _ item: Int) -> StageFailure {
        StageFailure(stage: stage, item: V.int(item), underlying: Soak.Fault(stage: stage, value: .int(item), attempt: 1))
    }

    /// The observation of a run that did exactly the right thing.
    static func correct(_ seen: [Int] = [0, 3, 6], error: (any Error)? = failure("parse", 3)) -> Soak.Observation {
        let run = Soak.TerminalRun(error: error, seen: seen.map { .value(.int($0)) })
        return Soak.Observation(run: run, cancelIssued: false, startedAfterExit: 0, sourceCallsAfterExit: 0,
                                settledAfterBreak: true, resourceProblems: [], resourcesCreated: 0, rails: [:],
                                maxInFlight: 4, bound: 10, stages: "")
    }

    static func kinds(_ s: Soak.Scenario, _ o: Soak.Observation?) -> [String] {
        Soak.findings(s, o).filter { $0.check != .note }.map(\.kind)
    }

    @Test func theOracleAppliesTheOperationsItemByItem() {
        let expected = Soak.Oracle(Self.mapScenario()).expected()
        #expect(expected.outputs == [.value(.int(0)), .value(.int(3)), .value(.int(6))])
        #expect(expected.failure == Soak.FailureModel(stage: "parse", item: .int(3), attempts: 1))
        let free = Soak.Oracle(Self.mapScenario()).faultFree()
        #expect(free.outputs.count == 6 && free.failure == nil)
        #expect(free.possibleFailures == [Soak.FailureModel(stage: "parse", item: .int(3), attempts: 1)])
    }

    @Test func debounceKeepsTheLastItemAndADroppingBufferDropsWhatTheRunDropped() {
        let map = Soak.Leaf(id: 1, kind: .map(async: false), k: 0, options: Soak.Options(name: "m"))
        let debounce = Soak.Leaf(id: 2, kind: .debounce, k: 0, options: Soak.Options())
        var s = Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: 5, sourceFailsAfter: nil,
                              nodes: [.leaf(map), .leaf(debounce)], openRail: nil, terminal: .collect, cancel: nil)
        #expect(Soak.Oracle(s).expected().outputs == [.value(.int(12))])
        s.faults[1] = [.int(4): .persistent]   // the run fails: the pending item is not emitted
        #expect(Soak.Oracle(s).expected().outputs == [])
        let buffer = Soak.Leaf(id: 3, kind: .dropBuffer(size: 1, oldest: true), k: 0, options: Soak.Options())
        let dropping = Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: 5, sourceFailsAfter: nil,
                                     nodes: [.leaf(map), .leaf(buffer)], openRail: nil, terminal: .collect, cancel: nil)
        let trace = Soak.Oracle(dropping, drops: [3: [.int(3), .int(9)]]).expected()
        #expect(trace.outputs == [.value(.int(0)), .value(.int(6)), .value(.int(12))])
        #expect(trace.dropped == 2)
    }

    @Test func theDropCheckFailsOnADropNotCountedOrNeverReceived() {
        let buffer = Soak.Leaf(id: 3, kind: .dropBuffer(size: 1, oldest: false), k: 0, options: Soak.Options())
        let s = Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: 3, sourceFailsAfter: nil,
                              nodes: [.leaf(buffer)], openRail: nil, terminal: .collect, cancel: nil)
        var o = Self.correct([], error: nil)
        o.run = Soak.TerminalRun(error: nil, returned: [.value(.int(0)), .value(.int(2))])
        o.drops = [3: [.int(1)]]
        o.metricDrops = 1
        #expect(Self.kinds(s, o) == [])
        o.metricDrops = 0
        #expect(Self.kinds(s, o) == ["drops not counted exactly in the metrics"])
        o.metricDrops = 1
        o.drops = [3: [.int(7)]]
        #expect(Self.kinds(s, o).contains("dropped an item it never received (or twice)"))
        o.drops = [3: [.int(1)]]
        o.run = Soak.TerminalRun(error: nil, returned: [.value(.int(0))])   // item 2 lost silently
        #expect(!Self.kinds(s, o).isEmpty)
    }

    @Test func aBatchDropsItsPartialBatchOnFailureAndFlushesItAtTheEnd() {
        let batch = Soak.Leaf(id: 1, kind: .batch(size: 2, grouped: false), k: 0, options: Soak.Options())
        let map = Soak.Leaf(id: 2, kind: .map(async: false), k: 0, options: Soak.Options(name: "m"))
        var s = Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: 5, sourceFailsAfter: nil,
                              nodes: [.leaf(map), .leaf(batch)], openRail: nil, terminal: .collect, cancel: nil)
        #expect(Soak.Oracle(s).expected().outputs == [.value(.list([.int(0), .int(3)])), .value(.list([.int(6), .int(9)])), .value(.list([.int(12)]))])
        s.faults[2] = [.int(4): .persistent]   // source items 0–3 fill two batches; item 4 fails
        let failing = Soak.Oracle(s).expected()
        #expect(failing.outputs == [.value(.list([.int(0), .int(3)])), .value(.list([.int(6), .int(9)]))])
        #expect(failing.failure?.item == .int(4))
        s.faults[2] = [.int(3): .persistent]   // the partial batch [6] is not flushed
        #expect(Soak.Oracle(s).expected().outputs == [.value(.list([.int(0), .int(3)]))])
    }

    @Test func aCorrectRunHasNoFindings() {
        #expect(Self.kinds(Self.mapScenario(), Self.correct()) == [])
    }

    @Test func everyCheckCanFail() {
        let s = Self.mapScenario()
        var o = Self.correct([0, 3])
        #expect(Self.kinds(s, o) == ["prefix lost on failure"])
        o = Self.correct([0, 3, 6, 12])
        #expect(Self.kinds(s, o) == ["outputs past the failing item delivered"])
        o = Self.correct(error: Self.failure("parse", 4))
        #expect(Self.kinds(s, o) == ["not the first failing item in source order"])
        o = Self.correct(error: Self.failure("outer/parse", 3))
        #expect(Self.kinds(s, o) == ["wrong stage name (group path)"])
        o = Self.correct(error: nil)
        #expect(Self.kinds(s, o) == ["failure swallowed"])
        o = Self.correct(error: CancellationError())
        #expect(Self.kinds(s, o) == ["CancellationError without a cancelled caller"])
        o = Self.correct()
        o.cancelIssued = true
        o.run.error = Self.failure("parse", 3)
        #expect(Self.kinds(Self.mapScenario(.forEach(stall: 0, throwAt: nil)), o) == ["StageFailure instead of CancellationError"])

        o = Self.correct()
        o.startedAfterExit = 1
        #expect(Self.kinds(s, o) == ["body started after terminal returned"])
        o = Self.correct()
        o.sourceCallsAfterExit = 2
        #expect(Self.kinds(s, o) == ["source read after terminal returned"])
        o = Self.correct()
        o.run.activeAtExit = 1
        #expect(Self.kinds(s, o) == ["body still running when the terminal returned"])
        o = Self.correct()
        o.resourceProblems = ["1 of 2 resources never torn down"]
        #expect(Self.kinds(s, o) == ["resource never torn down"])
        o = Self.correct()
        o.maxInFlight = 11
        #expect(Self.kinds(s, o) == ["memory bound exceeded"])
        o = Self.correct()
        o.events = Soak.EventTally(started: 4, retried: 1, ended: 3)
        #expect(Self.kinds(s, o) == ["observed item not ended exactly once"])
        o.events.ended = 4
        #expect(Self.kinds(s, o) == [])
        #expect(Self.kinds(s, nil) == ["hang"])
    }

    @Test func stopEarlyTerminalsMustNotFailAfterHavingEnough() {
        let s = Self.mapScenario(.take(2))
        var o = Self.correct([])
        o.run.returned = [.value(.int(0)), .value(.int(3))]
        o.run.error = nil
        #expect(Self.kinds(s, o) == [])
        o.run.returned = nil
        o.run.error = Self.failure("parse", 3)
        #expect(Self.kinds(s, o) == ["take(n) threw though it had what it needed"])

        let loop = Self.mapScenario(.loop(stall: 0, breakAfter: 1))
        o = Self.correct([0], error: nil)
        o.startedAfterExit = 1
        #expect(Self.kinds(loop, o) == [], "one body past its stop check may still begin")
        o.startedAfterExit = Soak.maxWorkersPerScenario + 1
        #expect(Self.kinds(loop, o) == ["body started after break"])
    }

    @Test func unorderedRunsAreComparedAsMultisets() {
        let s = Self.mapScenario(.collect, workers: 3, unordered: true)
        #expect(s.comparison == .multiset)
        var o = Self.correct([], error: nil)
        o.run.returned = [15, 12, 9, 6, 3, 0].map { .value(.int($0)) }
        #expect(Self.kinds(s, o) == ["failure swallowed"])
        o.run.returned = nil
        o.run.error = Self.failure("parse", 3)
        #expect(Self.kinds(s, o) == [])
        o.run.error = Self.failure("parse", 4)
        #expect(Self.kinds(s, o) == ["failure that no item causes"])
        let loop = Self.mapScenario(.forEach(stall: 0, throwAt: nil), workers: 3, unordered: true)
        o = Self.correct([6, 0, 7])
        #expect(Self.kinds(loop, o) == ["outputs not among the expected ones"])
    }

    @Test func railwayInputsAreAccountedFor() {
        func leaf(_ id: Int, _ kind: Soak.LeafKind) -> Soak.Leaf { Soak.Leaf(id: id, kind: kind, k: 0, options: Soak.Options()) }
        let block = Soak.RailBlock(id: 10, enter: leaf(1, .tryMap(async: false)),
                                   stays: [leaf(2, .thenFilter(async: false)), leaf(3, .auditSuccesses), leaf(4, .auditFailures)],
                                   leave: leaf(5, .successes), front: .pipe)
        let s = Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: 0, sourceFailsAfter: nil,
                              nodes: [.rail(block)], openRail: nil, terminal: .collect, cancel: nil)
        var o = Self.correct([], error: nil)
        o.run.returned = []
        o.rails = [10: Soak.RailCount(entered: 5, filtered: 1, successes: 3, failures: 1)]
        #expect(Self.kinds(s, o) == [])
        o.rails = [10: Soak.RailCount(entered: 5, filtered: 1, successes: 2, failures: 1)]
        #expect(Self.kinds(s, o) == ["railway input not accounted for exactly once"])
    }

    /// A run that never ends is reported (as `nil`) instead of hanging the soak.
    @Test func theWatchdogGivesUpOnAHungRun() async {
        let never = Gate()
        let result = await withWatchdog(seconds: 0.2) { () async -> Int in
            try? await never.wait()   // released only by the watchdog's cancellation
            return 1
        }
        #expect(result == nil)
        #expect(await withWatchdog(seconds: 30) { 2 } == 2)
    }

    /// The checks rely on these: every stage sees distinct items (attempts are counted per item),
    /// and both front ends build the same graph for the same scenario.
    @Test func theGeneratorKeepsItsInvariants() async {
        let pool = BlockingPool(threads: 1, name: "soak-self-test")
        defer { pool.shutdown() }
        var kinds: Set<String> = [], sources: Set<String> = [], terminals: Set<String> = []
        var comparisons: Set<String> = [], shapes: Set<String> = []
        for seed in UInt64(1)...600 {
            let s = Soak.Scenario.random(seed: seed)
            #expect(Soak.Oracle(s).faultFree().hasDistinctInputs, "seed \(seed): a stage receives equal items")
            for (leaf, _) in s.flattened { kinds.insert("\(leaf.kind)") }
            sources.insert(s.source.rawValue)
            for node in s.nodes { shapes.formUnion(node.groupShapes) }
            terminals.insert(s.terminal.shortLabel)
            comparisons.insert(s.comparison.rawValue)
            guard seed <= 300 else { continue }

            let probe = Soak.Probe(cancelAtStart: nil)
            let pipe = Soak.PipelineBuilder(scenario: s.withFront(.pipe), probe: probe, pool: pool).build()
            let builder = Soak.PipelineBuilder(scenario: s.withFront(.builder), probe: probe, pool: pool).build()
            #expect("\(pipe.stages)" == "\(builder.stages)", "seed \(seed): the two front ends differ")
        }
        #expect(kinds.count >= 30, "\(kinds.sorted())")
        #expect(sources.count == 9, "\(sources.sorted())")
        #expect(shapes == ["plain", "route", "broadcast", "partitioned"], "\(shapes.sorted())")
        #expect(terminals.count == 11, "\(terminals.sorted())")
        #expect(comparisons.count == 3)
    }
}

extension Soak.Node {
    /// The shapes of the groups in this node.
    var groupShapes: Set<String> {
        guard case .group(let g) = self else { return [] }
        return g.children.reduce([g.shape.rawValue]) { $0.union($1.groupShapes) }
    }
}

extension Soak.Scenario {
    /// The same scenario with every stage (and the source side) written in one front end.
    func withFront(_ front: Soak.Front) -> Soak.Scenario {
        func leaf(_ l: Soak.Leaf) -> Soak.Leaf {
            var l = l
            l.options.front = front
            return l
        }
        func block(_ b: Soak.RailBlock) -> Soak.RailBlock {
            var b = b
            b.front = front
            b.enter = leaf(b.enter)
            b.stays = b.stays.map(leaf)
            b.leave = b.leave.map(leaf)
            return b
        }
        func node(_ n: Soak.Node) -> Soak.Node {
            switch n {
            case .leaf(let l): return .leaf(leaf(l))
            case .rail(let b): return .rail(block(b))
            case .group(var g):
                g.options.front = front
                g.children = g.children.map(node)
                return .group(g)
            }
        }
        var s = self
        s.sourceFront = front
        s.nodes = nodes.map(node)
        s.openRail = openRail.map(block)
        return s
    }
}
