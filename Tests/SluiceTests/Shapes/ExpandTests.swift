// Recursive expansion: a generated graph with cycles is walked once per node and the walk ends, for
// every worker count, buffer (0 and 1 too) and frontier size; limits, failures, the memory bound.
import Sluice
import SluiceTestSupport
import Testing


/// A random directed graph with cycles.
struct TestGraph: Sendable {
    var edges: [[Int]]

    init(nodes: Int, seed: UInt64) {
        var rng = TestRandom(seed: seed)
        edges = (0..<nodes).map { _ in (0..<rng.next(upTo: 5)).map { _ in rng.next(upTo: nodes) } }
    }

    /// Breadth-first: every node reachable from `seeds` within `maxDepth`, with its depth.
    func reachable(from seeds: [Int], maxDepth: Int = .max) -> [Int: Int] {
        var depth: [Int: Int] = [:], queue: [Int] = []
        for s in seeds where depth[s] == nil { depth[s] = 0; queue.append(s) }
        var i = 0
        while i < queue.count {
            let n = queue[i]; i += 1
            guard depth[n]! < maxDepth else { continue }
            for m in edges[n] where depth[m] == nil { depth[m] = depth[n]! + 1; queue.append(m) }
        }
        return depth
    }
}

@Suite(.timeLimit(.minutes(1))) struct ExpandTests {
    static let graph = TestGraph(nodes: 400, seed: 7)

    @Test(arguments: [(1, 512, 1024), (4, 0, 1024), (4, 1, 2), (8, 1, 1), (8, 0, 1)])
    func aGraphWithCyclesIsWalkedOncePerNodeAndTheWalkEnds(workers: Int, buffer: Int, frontier: Int) async throws {
        let graph = Self.graph, visits = Counter()
        let walk: Flow<Int, Int> = op.expand(dedupe: .items, frontier: frontier) { (n: Int) async -> (Int, [Int]) in
            visits.increment()
            await Task.yield()
            return (n, graph.edges[n])
        }.workers(workers).buffer(BufferSize(capacity: buffer))
        let seeds = [0, 5, 0, 17]
        let out = try await withDeadline { try await walk(seeds).collect() }
        let expected = graph.reachable(from: seeds)
        #expect(out.count == expected.count && Set(out) == Set(expected.keys))
        #expect(visits.value == expected.count)
    }

    @Test func depthAndCountLimits() async throws {
        let graph = Self.graph
        let step: @Sendable (Int) -> (Int, [Int]) = { ($0, graph.edges[$0]) }
        // Without dedupe, every walk of up to `depth` edges from the input, revisits included.
        for depth in 0...3 {
            var level = [0], walks = [0]
            for _ in 0..<depth {
                level = level.flatMap { graph.edges[$0] }
                walks += level
            }
            let out = try await op.expand(maxDepth: depth, step).workers(4)([0]).collect()
            #expect(out.sorted() == walks.sorted())
        }
        // With dedupe, each item once, and never deeper than the limit: every item processed is
        // within `maxDepth` of the input (its depth is that of the first path that reached it).
        let within2 = graph.reachable(from: [0], maxDepth: 2)
        let deduped = try await op.expand(dedupe: .items, maxDepth: 2, step).workers(4)([0]).collect()
        #expect(deduped.count == Set(deduped).count && Set(deduped).isSubset(of: Set(within2.keys)))
        #expect(Set(graph.edges[0] + [0]).isSubset(of: Set(deduped)))
        // Without dedupe, a binary tree of depth 3: 15 nodes, revisits included.
        let tree = try await op.expand(maxDepth: 3) { (n: Int) in (n, [2 * n, 2 * n + 1]) }([1]).collect()
        #expect(tree.sorted() == Array(1...15))
        // The count limit: exactly `limit` items, and the (endless) input is no longer read.
        let pulled = Counter()
        let limited = Pipeline(CountingSequence(count: nil, pulled: pulled))
            | op.expand(dedupe: .items, limit: 50) { (n: Int) in (n, [n + 1_000_000]) }.workers(4)
        #expect(try await withDeadline { try await limited.collect() }.count == 50)
    }

    @Test func aFailingStepFailsTheRunAndStopsEveryWorker() async throws {
        let graph = Self.graph, running = HighWater()
        let walk: Flow<Int, Int> = op.expand(dedupe: .items) { (n: Int) async throws -> (Int, [Int]) in
            running.enter(); defer { running.leave() }
            if n == 3 { throw ShapeBoom() }
            return (n, graph.edges[n] + [3])
        }.named("walk").workers(4)
        let (items, error) = await readUntilFailure(walk([0]))
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "walk" && failure.item as? Int == 3)
        #expect(!items.contains(3))
        #expect(running.current == 0)
    }

    @Test func aCancelledCallerStopsTheExpansion() async throws {
        let running = HighWater(), started = Counter()
        let walk: Flow<Int, Int> = op.expand { (n: Int) async throws -> (Int, [Int]) in
            running.enter(); defer { running.leave() }
            started.increment()
            if n > 10 { try await Gate().wait() }
            return (n, [2 * n, 2 * n + 1])
        }.workers(4)
        await expectCancellationStopsEverything(walk([1]), started: started, atLeast: 6, running: running)
    }

    /// An endless graph (every node has two successors) with a stalled consumer: the expansion
    /// stops when its output is full; the steps run stay within the pipeline's bound.
    @Test func withAStalledConsumerAnEndlessExpansionStaysWithinTheBound() async throws {
        let steps = Counter()
        let p = Pipeline([1]) | op.expand(frontier: 4) { (n: Int) in
            steps.increment()
            return (n, [2 * n, 2 * n + 1])
        }.workers(3).buffer(8)
        let (value, bound) = await countWhileConsumerStalled(p, steps, atLeast: 9)
        #expect(value <= bound, "steps \(value), bound \(bound)")
    }

    @Test func bothFrontEndsBuildTheSameStage() async throws {
        let graph = Self.graph
        let pipe: Flow<Int, Int> = op.expand(dedupe: .by { $0 }, maxDepth: 2) { (n: Int) in (n, graph.edges[n]) }.workers(2)
        let builder = Flow<Int, Int> {
            Expand(dedupe: .by { $0 }, maxDepth: 2) { (n: Int) in (n, graph.edges[n]) }.workers(2)
        }
        #expect(pipe.stages == builder.stages)
        #expect(pipe.mermaid == builder.mermaid)
        #expect(pipe.mermaid.contains("-- \"successors\" -->"))
        #expect(try await pipe([0]).collect().sorted() == builder([0]).collect().sorted())
        // A custom dedupe hook: odd nodes are never processed.
        let evens = try await op.expand(dedupe: .custom { { $0 % 2 == 0 } }, maxDepth: 4) { (n: Int) in (n, [n + 1, n + 2]) }([0]).collect()
        #expect(evens.allSatisfy { $0 % 2 == 0 } && Set(evens) == [0, 2, 4, 6, 8])
    }
}
