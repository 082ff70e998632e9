// The soak checks its `zip` sources and `expand` stages: the oracles against an independent
// reference (a breadth-first search, a count of walks), real runs without findings, and wrong runs
// caught.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct SoakShapeSelfTests {
    typealias V = Soak.Value

    static func zipScenario(count: Int, zip: Soak.ZipPlan, failsAfter: Int? = nil, terminal: Soak.Terminal = .collect) -> Soak.Scenario {
        var s = Soak.Scenario(seed: 0, source: .zip, sourceFront: .pipe, count: count, sourceFailsAfter: failsAfter,
                              nodes: [.leaf(Soak.Leaf(id: 1, kind: .map(async: true), k: 0, options: Soak.Options(name: "m")))],
                              openRail: nil, terminal: terminal, cancel: nil)
        s.zip = zip
        return s
    }

    static func expandScenario(_ plan: Soak.ExpandPlan, count: Int = 5, buffer: Int? = nil, terminal: Soak.Terminal = .collect) -> Soak.Scenario {
        var options = Soak.Options(name: "walk")
        options.buffer = buffer
        options.workers = 3
        return Soak.Scenario(seed: 0, source: .sequence, sourceFront: .pipe, count: count, sourceFailsAfter: nil,
                             nodes: [.leaf(Soak.Leaf(id: 1, kind: .expand(plan), k: 0, options: options))],
                             openRail: nil, terminal: terminal, cancel: nil)
    }

    static func plan(_ graph: Soak.Graph, dedupe: Soak.DedupeKind, maxDepth: Int? = nil, limit: Int? = nil, binding: Bool = false) -> Soak.ExpandPlan {
        Soak.ExpandPlan(graph: graph, dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: 1, async: true, binding: binding)
    }

    static func kinds(_ s: Soak.Scenario, _ o: Soak.Observation?) -> [String] {
        Soak.findings(s, o).filter { $0.check != .note }.map(\.kind)
    }

    static func observe(_ s: Soak.Scenario) async -> Soak.Observation? {
        let pool = BlockingPool(threads: 1, name: "soak-shape-self-test")
        defer { pool.shutdown() }
        return await withWatchdog(seconds: 30) { await Soak.Runner.observe(s, pool: pool) }
    }

    /// A graph with a cycle, drawn the way the generator draws them.
    static var cyclicGraph: Soak.Graph {
        for k in 0..<1000 {
            let g = Soak.Graph(nodes: 6, k: k, walks: false)
            // A cycle through node 0 longer than a self-loop, reachable from the inputs 0..<5.
            var seen: Set<Int> = [], frontier = g.edges(0).filter { $0 != 0 }
            // … and items more than one step from every input.
            let inputs = (0..<5).map(V.int)
            guard !within(g, 3, of: inputs).subtracting(within(g, 1, of: inputs)).isEmpty else { continue }
            while let n = frontier.popLast() {
                if n == 0 { return g }
                if seen.insert(n).inserted { frontier += g.edges(n).filter { $0 != n } }
            }
        }
        preconditionFailure("no graph with a cycle")
    }

    // MARK: zip

    @Test func zipPairsUpToTheShorterInput() async {
        for plan in [Soak.ZipPlan(longerFirst: true, extra: 3), Soak.ZipPlan(longerFirst: false, extra: 3), Soak.ZipPlan(extra: 0)] {
            let s = Self.zipScenario(count: 4, zip: plan)
            #expect(Soak.Oracle(s).expected().outputs == [0, 3, 6, 9].map { .value(.int($0)) })
            let o = await Self.observe(s)
            #expect(o?.run.returned == [0, 3, 6, 9].map { .value(.int($0)) }, "\(plan)")
            #expect(Self.kinds(s, o) == [], "\(plan)")
        }
        // One input empty, or both.
        for plan in [Soak.ZipPlan(longerFirst: true, extra: 5), Soak.ZipPlan(longerFirst: false, extra: 5), Soak.ZipPlan(extra: 0)] {
            let s = Self.zipScenario(count: 0, zip: plan)
            let o = await Self.observe(s)
            #expect(o?.run.returned == [], "\(plan)")
            #expect(Self.kinds(s, o) == [], "\(plan)")
        }
    }

    @Test func aFailingZipInputFailsTheRunAfterThePairsBeforeIt() async {
        for failingFirst in [true, false] {
            let s = Self.zipScenario(count: 6, zip: Soak.ZipPlan(longerFirst: !failingFirst, extra: 2, failingFirst: failingFirst),
                                     failsAfter: 2, terminal: .forEach(stall: 0, throwAt: nil))
            let expected = Soak.Oracle(s).expected()
            #expect(expected.outputs == [0, 3].map { .value(.int($0)) })
            #expect(expected.failure == Soak.FailureModel(stage: "source", item: nil, attempts: 1))
            let o = await Self.observe(s)
            #expect(o?.run.seen == [0, 3].map { .value(.int($0)) }, "failing first: \(failingFirst)")
            #expect(Soak.Thrown(o?.run.error) == .stage(Soak.FailureModel(stage: "source", item: nil, attempts: 1), translated: false))
            #expect(Self.kinds(s, o) == [], "failing first: \(failingFirst)")
        }
    }

    @Test func wrongZipRunsAreCaught() {
        let s = Self.zipScenario(count: 2, zip: Soak.ZipPlan(longerFirst: true, extra: 1))
        func observation(_ returned: [V]) -> Soak.Observation {
            Soak.Observation(run: Soak.TerminalRun(error: nil, returned: returned.map(Soak.Item.value)), cancelIssued: false,
                             startedAfterExit: 0, sourceCallsAfterExit: 0, settledAfterBreak: true, resourceProblems: [],
                             resourcesCreated: 0, rails: [:], maxInFlight: 0, bound: 10, stages: "")
        }
        #expect(Self.kinds(s, observation([.int(0), .int(3)])) == [])
        #expect(Self.kinds(s, observation([.int(0), .int(3), .int(6)])) == ["extra outputs"], "a pair past the shorter input")
        #expect(Soak.unzip((.int(2), Soak.partner(.int(2)))) == .int(2))
        let misfit = Soak.unzip((.int(2), Soak.partner(.int(3))))
        #expect(Self.kinds(s, observation([.int(0), Soak.bump(misfit, 0)])).contains("unknown stage name"), "a wrong pair")
    }

    // MARK: expand

    /// Every node reachable from `roots` (breadth first), as values.
    static func reachable(_ g: Soak.Graph, from roots: [V]) -> Set<V> {
        var seen = Set(roots), queue = roots
        while !queue.isEmpty {
            let v = queue.removeFirst()
            for s in g.successors(v) where seen.insert(s).inserted { queue.append(s) }
        }
        return seen
    }

    /// The number of walks of length 0…`depth` from `roots`, from the adjacency alone.
    static func walks(_ g: Soak.Graph, from roots: [Int], depth: Int) -> Int {
        var counts = [Int](repeating: 0, count: g.nodes)
        for x in roots { counts[Soak.Graph.node(of: x) % g.nodes] += 1 }
        var total = roots.count
        for _ in 0..<depth {
            var next = [Int](repeating: 0, count: g.nodes)
            for n in 0..<g.nodes { for e in g.edges(n) { next[e] += counts[n] } }
            counts = next
            total += counts.reduce(0, +)
        }
        return total
    }

    @Test func theExpandOracleIsTheReachableSetOrEveryWalk() {
        let g = Self.cyclicGraph
        for dedupe in [Soak.DedupeKind.items, .key, .custom] {
            let trace = Soak.Oracle(Self.expandScenario(Self.plan(g, dedupe: dedupe))).faultFree()
            let reference = Self.reachable(g, from: (0..<5).map(V.int))
            #expect(Set(trace.outputs) == Set(reference.map(Soak.Item.value)))
            #expect(trace.outputs.count == reference.count, "each node once")
            #expect(trace.admitted[1] == reference.count)
            #expect(reference.count > 5, "the walk goes past the inputs")
        }
        var walking = g
        walking.walks = true
        for depth in 0...3 {
            let trace = Soak.Oracle(Self.expandScenario(Self.plan(walking, dedupe: .none, maxDepth: depth))).faultFree()
            #expect(trace.outputs.count == Self.walks(walking, from: Array(0..<5), depth: depth), "depth \(depth)")
            #expect(trace.hasDistinctInputs, "a new item per path")
        }
    }

    @Test func expansionsRunAsTheOracleSays() async {
        let g = Self.cyclicGraph
        var walking = g
        walking.walks = true
        for buffer in [0, 1, nil] {
            for plan in [Self.plan(g, dedupe: .items), Self.plan(g, dedupe: .custom), Self.plan(walking, dedupe: .none, maxDepth: 3)] {
                let s = Self.expandScenario(plan, buffer: buffer)
                #expect(s.comparison == .multiset)
                let o = await Self.observe(s)
                #expect(Self.kinds(s, o) == [], "\(plan), buffer \(buffer.map(String.init) ?? "default")")
            }
        }
    }

    @Test func aFailingExpansionFailsTheRunWithItsStageFailure() async throws {
        let g = Self.cyclicGraph
        var s = Self.expandScenario(Self.plan(g, dedupe: .items), buffer: 0, terminal: .forEach(stall: 2, throwAt: nil))
        let node = try #require(Self.reachable(g, from: (0..<5).map(V.int)).first { if case .int(let x) = $0 { x < 0 || x >= 5 } else { false } })
        s.faults[1] = [node: .persistent]
        let o = await Self.observe(s)
        #expect(Soak.Thrown(o?.run.error) == .stage(Soak.FailureModel(stage: "walk", item: node, attempts: 1), translated: false))
        #expect(Self.kinds(s, o) == [])
        #expect(Self.kinds(s, Soak.Observation(run: Soak.TerminalRun(error: nil, seen: []), cancelIssued: false, startedAfterExit: 0,
                                               sourceCallsAfterExit: 0, settledAfterBreak: true, resourceProblems: [], resourcesCreated: 0,
                                               rails: [:], maxInFlight: 0, bound: 10, stages: "")) == ["failure swallowed"])
    }

    /// Every item within `depth` steps of one of `roots` (breadth first).
    static func within(_ g: Soak.Graph, _ depth: Int, of roots: [V]) -> Set<V> {
        var seen = Set(roots), level = roots
        for _ in 0..<depth {
            level = level.flatMap(g.successors).filter { seen.insert($0).inserted }
        }
        return seen
    }

    @Test func withDedupeAndADepthLimitTheOutputsAreOnlyBounded() async throws {
        let g = Self.cyclicGraph
        let inputs = (0..<5).map(V.int)
        for depth in 1...3 {
            let s = Self.expandScenario(Self.plan(g, dedupe: .items, maxDepth: depth))
            let free = Soak.Oracle(s).faultFree()
            let reference = Self.within(g, depth, of: inputs)
            #expect(Set(free.outputs) == Set(reference.map(Soak.Item.value)), "depth \(depth)")
            #expect(free.outputs.count == reference.count, "each once")
            #expect(free.floor == inputs.map(Soak.Item.value))
            for buffer in [0, 1] {
                var b = s
                b.nodes = [.leaf(Soak.Leaf(id: 1, kind: .expand(Self.plan(g, dedupe: .custom, maxDepth: depth)), k: 0,
                                           options: Soak.Options(workers: 4, buffer: buffer, name: "walk")))]
                let o = await Self.observe(b)
                #expect(Self.kinds(b, o) == [], "depth \(depth), buffer \(buffer)")
            }
        }
        let s = Self.expandScenario(Self.plan(g, dedupe: .items, maxDepth: 1))
        var o = try #require(await Self.observe(s))
        o.run.returned = Array(inputs.dropLast().map(Soak.Item.value))
        #expect(Self.kinds(s, o) == ["unordered outputs differ"], "an input not visited")
        let beyond = try #require(Self.within(g, 3, of: inputs).subtracting(Self.within(g, 1, of: inputs)).first)
        o.run.returned = (inputs + [beyond]).map(Soak.Item.value)
        #expect(Self.kinds(s, o) == ["unordered outputs differ"], "an item beyond the depth limit")
    }

    @Test func aBindingLimitDeliversThatMany() async throws {
        let g = Self.cyclicGraph
        let all = Soak.Oracle(Self.expandScenario(Self.plan(g, dedupe: .items))).faultFree().outputs
        let s = Self.expandScenario(Self.plan(g, dedupe: .items, limit: 3, binding: true))
        #expect(s.cap == 3)
        let o = try #require(await Self.observe(s))
        #expect(o.run.returned?.count == 3)
        #expect(Self.kinds(s, o) == [])
        var wrong = o
        wrong.run.returned = Array(all.prefix(4))
        #expect(Self.kinds(s, wrong) == ["unordered outputs differ"])
        wrong.run.returned = [.value(.int(-1)), .value(.int(0)), .value(.int(1))]
        #expect(Self.kinds(s, wrong) == ["unordered outputs differ"])
    }
}
