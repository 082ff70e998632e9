// Tests of the planner: which stages share a task (fusion), when the source is read inside the
// first worker, and how the documented in-flight bound follows buffers and workers.
import Testing
@testable import SluiceExecutor

/// A synchronous 1 → 1 body: fusible.
struct PlusOneBody: StageBody {
    typealias Input = Int
    typealias Output = Int

    var isFusible: Bool { true }

    func makeKernel(context: StageContext) -> ChunkKernel<Int, Int>? {
        ChunkKernel { input, output in
            for x in input { output.append(x + 1) }
        }
    }
}

/// An asynchronous body: never fusible.
struct AsyncPlusOneBody: StageBody {
    typealias Input = Int
    typealias Output = Int

    func makeAsyncSink(_ downstream: AsyncSink<Int>, context: StageContext) -> AsyncSink<Int> {
        let push = downstream.push
        return AsyncSink(push: { x in
            await Task.yield()
            try await push(x + 1)
        }, finish: downstream.finish)
    }
}

/// A synchronous body that emits two outputs per input: not fusible (an outbox could grow).
struct TwiceBody: StageBody {
    typealias Input = Int
    typealias Output = Int

    func makeAsyncSink(_ downstream: AsyncSink<Int>, context: StageContext) -> AsyncSink<Int> {
        let push = downstream.push
        return AsyncSink(push: { x in
            try await push(x)
            try await push(x)
        }, finish: downstream.finish)
    }
}

@Suite struct PlanTests {
    static func sync(_ name: String, workers: Int? = nil, buffer: Int? = nil, ordered: Bool = true) -> StageNode {
        StageNode(kind: .map, name: name, options: StageOptions(workers: workers, buffer: buffer, ordered: ordered), body: PlusOneBody())
    }

    static func async(_ name: String, workers: Int? = nil, buffer: Int? = nil, ordered: Bool = true) -> StageNode {
        StageNode(kind: .map, name: name, options: StageOptions(workers: workers, buffer: buffer, ordered: ordered), body: AsyncPlusOneBody())
    }

    static func twice(_ name: String) -> StageNode {
        StageNode(kind: .flatMap, name: name, body: TwiceBody())
    }

    /// The segments as lists of stage names.
    static func shape(_ nodes: [StageNode], synchronousSource: Bool = true) -> [[String]] {
        Plan(nodes: nodes, synchronousSource: synchronousSource).segments.map { $0.nodes.map(\.name) }
    }

    // MARK: fusion

    @Test func consecutiveFusibleStagesShareOneSegment() {
        let plan = Plan(nodes: [Self.sync("a"), Self.sync("b"), Self.sync("c")], synchronousSource: true)
        #expect(plan.segments.map { $0.nodes.map(\.name) } == [["a", "b", "c"]])
        let segment = plan.segments[0]
        #expect(segment.workers == 1)
        #expect(segment.isSynchronous)
        #expect(segment.ordered)
        #expect(segment.capacity == Plan.defaultBuffer)
        #expect(segment.window == 0)
        #expect(segment.name == "a+b+c")
    }

    @Test func explicitWorkersGiveAStageItsOwnSegment() {
        #expect(Self.shape([Self.sync("a"), Self.sync("b", workers: 3), Self.sync("c")]) == [["a"], ["b"], ["c"]])
        // Even `workers(1)` written explicitly is a request for a task of its own.
        #expect(Self.shape([Self.sync("a"), Self.sync("b", workers: 1), Self.sync("c")]) == [["a"], ["b"], ["c"]])
        let plan = Plan(nodes: [Self.sync("a"), Self.sync("b", workers: 3)], synchronousSource: true)
        #expect(plan.segments[1].workers == 3)
        #expect(plan.segments[1].isSynchronous)
        #expect(plan.segments[1].window == 3 * Plan.windowPerWorker, "ordered with 3 workers: a reorder window")
    }

    @Test func theReorderWindowIsSetInItemsIndependentlyOfWorkers() {
        var node = Self.sync("b", workers: 3)
        node.options.window = 1_000
        #expect(Plan(nodes: [node], synchronousSource: true).segments[0].window == 1_000)
        node.options.window = 1
        #expect(Plan(nodes: [node], synchronousSource: true).segments[0].window == 1)
        let plan = Plan(nodes: [Self.sync("b", workers: 3, ordered: false)], synchronousSource: true)
        #expect(plan.segments[0].window == 0, "unordered: no window")
        // The window is part of the bound.
        node.options.window = 5_000
        let wide = Plan(nodes: [node], synchronousSource: true).inFlightBound
        node.options.window = 50
        #expect(wide - Plan(nodes: [node], synchronousSource: true).inFlightBound == 4_950)
    }

    @Test func defaultBuffersAreLargeOnlyForASingleWorker() {
        let plan = Plan(nodes: [Self.sync("a"), Self.async("b"), Self.sync("c", workers: 2), Self.async("d", workers: 3)], synchronousSource: false)
        #expect(plan.segments.map(\.capacity) == [Plan.defaultBuffer, Plan.defaultBuffer, Plan.parallelBuffer, Plan.parallelBuffer])
        #expect(plan.sourceCapacity == Plan.concurrentBuffer, "an async source's channel is small")
    }

    @Test func anExplicitBufferGivesAStageItsOwnSegment() {
        #expect(Self.shape([Self.sync("a"), Self.sync("b", buffer: 4), Self.sync("c")]) == [["a"], ["b"], ["c"]])
        let plan = Plan(nodes: [Self.sync("a"), Self.sync("b", buffer: 4), Self.sync("c", buffer: 0)], synchronousSource: true)
        #expect(plan.segments.map(\.capacity) == [Plan.defaultBuffer, 4, 0])
    }

    @Test func unorderedGivesAStageItsOwnSegment() {
        #expect(Self.shape([Self.sync("a"), Self.sync("b", ordered: false), Self.sync("c")]) == [["a"], ["b"], ["c"]])
        let plan = Plan(nodes: [Self.sync("b", workers: 4, ordered: false)], synchronousSource: true)
        #expect(!plan.segments[0].ordered)
        #expect(plan.segments[0].window == 0, "unordered: no reorder window")
    }

    @Test func anAsyncBodyGetsItsOwnSegment() {
        let plan = Plan(nodes: [Self.sync("a"), Self.async("x"), Self.sync("c")], synchronousSource: true)
        #expect(plan.segments.map { $0.nodes.map(\.name) } == [["a"], ["x"], ["c"]])
        #expect(plan.segments.map(\.isSynchronous) == [true, false, true])
        #expect(Self.shape([Self.async("x"), Self.async("y")]) == [["x"], ["y"]], "two async stages run concurrently")
    }

    @Test func aNonFusibleSynchronousBodyGetsItsOwnSegment() {
        let plan = Plan(nodes: [Self.sync("a"), Self.twice("t"), Self.sync("c")], synchronousSource: true)
        #expect(plan.segments.map { $0.nodes.map(\.name) } == [["a"], ["t"], ["c"]])
        #expect(!plan.segments[1].isSynchronous)
    }

    @Test func aStageWithAnExecutorPreferenceGetsItsOwnSegment() {
        var pinned = Self.sync("p")
        pinned.executorPreference = ManualExecutor()
        let plan = Plan(nodes: [Self.sync("a"), pinned, Self.sync("c")], synchronousSource: true)
        #expect(plan.segments.map { $0.nodes.map(\.name) } == [["a"], ["p"], ["c"]])
        #expect(plan.segments[1].executorPreference != nil)
        #expect(plan.segments[0].executorPreference == nil)
    }

    @Test func fusionResumesAfterABoundary() {
        let nodes = [Self.sync("a"), Self.sync("b"), Self.async("x"), Self.sync("c"), Self.sync("d"),
                     Self.sync("e", workers: 2), Self.sync("f"), Self.sync("g")]
        #expect(Self.shape(nodes) == [["a", "b"], ["x"], ["c", "d"], ["e"], ["f", "g"]])
    }

    @Test func noStagesPlanNoSegments() {
        let plan = Plan(nodes: [], synchronousSource: true)
        #expect(plan.segments.isEmpty)
        #expect(!plan.sourceFused, "with no stage, the source needs its own task")
        #expect(plan.inFlightBound == 2 * plan.sourceCapacity + plan.consumerLimit)
    }

    // MARK: the source

    @Test func theSourceIsFusedOnlyWhenSynchronousIntoASingleWorkerSynchronousSegment() {
        let fusible = [Self.sync("a"), Self.async("x")]
        #expect(Plan(nodes: fusible, synchronousSource: true).sourceFused)
        #expect(!Plan(nodes: fusible, synchronousSource: false).sourceFused, "an async source has its own task")
        #expect(!Plan(nodes: [Self.async("x"), Self.sync("a")], synchronousSource: true).sourceFused,
                "an async first stage")
        #expect(!Plan(nodes: [Self.twice("t")], synchronousSource: true).sourceFused, "an expanding first stage")
        #expect(!Plan(nodes: [Self.sync("a", workers: 2)], synchronousSource: true).sourceFused,
                "several workers share the source through a channel")
        #expect(Plan(nodes: [Self.sync("a", buffer: 4)], synchronousSource: true).sourceFused,
                "one synchronous worker: an explicit buffer does not matter to the source")
        #expect(Plan(nodes: [Self.sync("a", workers: 1, ordered: false)], synchronousSource: true).sourceFused)
    }

    @Test func aFusedSourceIsReadInOutboxSizedChunks() {
        let plan = Plan(nodes: [Self.sync("a", buffer: 8)], synchronousSource: true)
        #expect(plan.sourceFused)
        #expect(plan.segments[0].takeLimit == plan.segments[0].outboxLimit)
        #expect(plan.segments[0].outboxLimit <= 8, "never more than the output channel holds")
    }

    @Test func takeLimitsFollowTheUpstreamCapacity() {
        let plan = Plan(nodes: [Self.async("x", buffer: 5), Self.async("y", workers: 3), Self.sync("z", workers: 2)],
                        synchronousSource: false)
        #expect(plan.segments[0].takeLimit == Plan.batchLimit(plan.sourceCapacity))
        #expect(plan.segments[1].takeLimit == 1, "async workers > 1 take one item at a time")
        #expect(plan.segments[2].takeLimit == Plan.batchLimit(plan.segments[1].capacity) / 2, "a synchronous stage splits its input's batch")
        #expect(plan.consumerLimit == Plan.concurrentBuffer, "after a parallel stage the consumer takes small batches")
        let single = Plan(nodes: [Self.async("x", buffer: 5), Self.sync("z", buffer: 100)], synchronousSource: false)
        #expect(single.consumerLimit == 100, "after one worker it takes the whole channel")
    }

    @Test func aParallelStageHandsOverMoreThanItsConsumerTakes() {
        // W3: hand-overs of a few items woke the consumer for each; the channel is larger than
        // what the consumer holds, so the bound stays small.
        let plan = Plan(nodes: [Self.sync("a", workers: 2)], synchronousSource: true)
        #expect(plan.segments[0].capacity == Plan.parallelBuffer)
        #expect(Plan.parallelBuffer >= 48)
        #expect(plan.consumerLimit == Plan.concurrentBuffer)
    }

    // MARK: the bound

    @Test func theInFlightBoundGrowsWithTheBuffer() {
        func bound(_ buffer: Int) -> Int {
            Plan(nodes: [Self.async("x", buffer: buffer), Self.async("y", buffer: buffer)], synchronousSource: false).inFlightBound
        }
        let bounds = [0, 1, 8, 64, 1_000, 100_000].map(bound)
        #expect(bounds == bounds.sorted() && Set(bounds).count == bounds.count, "\(bounds)")
        // One more item of buffer on each of two stages adds at least those two items.
        #expect(bound(9) - bound(8) >= 2)
    }

    /// (From 2 workers up for an async stage: a single async worker takes whole batches, several
    /// take one item each, so 1 → 2 workers may lower the bound.)
    @Test(arguments: [(async: true, workers: [2, 3, 4, 8, 16]), (false, [1, 2, 3, 4, 8, 16])])
    func theInFlightBoundGrowsWithWorkers(async: Bool, workers: [Int]) {
        func bound(_ workers: Int) -> Int {
            // An explicit buffer: the default one is larger for a single synchronous worker.
            let node = async ? Self.async("x", workers: workers, buffer: 64) : Self.sync("x", workers: workers, buffer: 64)
            return Plan(nodes: [Self.sync("a"), node], synchronousSource: true).inFlightBound
        }
        let bounds = workers.map(bound)
        #expect(bounds == bounds.sorted() && Set(bounds).count == bounds.count, "\(bounds)")
    }

    /// Huge values used to trap on overflow (`buffer(Int.max - 1)`, `workers(Int.max / 4)`): the
    /// bound saturates at `Int.max` instead.
    @Test func theInFlightBoundSaturates() {
        let hugeBuffer = [Self.sync("a"), Self.async("x", buffer: Int.max - 1)]
        #expect(Plan(nodes: hugeBuffer, synchronousSource: true).inFlightBound == Int.max)
        let hugeWorkers = [Self.async("x", workers: Int.max / 4)]
        #expect(Plan(nodes: hugeWorkers, synchronousSource: false).inFlightBound == Int.max)
        let many = (0..<4).map { Self.async("x\($0)", buffer: Int.max / 3) }
        #expect(Plan(nodes: many, synchronousSource: false).inFlightBound == Int.max)
        // Without overflow, the bound is the plain sum.
        let small = Plan(nodes: [Self.async("x", buffer: 7)], synchronousSource: false)
        let s = small.segments[0]
        // (An async source's task holds one item besides its channel.)
        #expect(small.inFlightBound == small.sourceCapacity + 1 + s.workers * (s.takeLimit + s.outboxLimit) + 7 + small.consumerLimit)
    }

    @Test func theInFlightBoundCountsEveryBuffer() {
        // The bound is at least the sum of the channel capacities: each can be full at once.
        let nodes = [Self.async("x", buffer: 10), Self.async("y", workers: 2, buffer: 20), Self.sync("z", buffer: 30)]
        let plan = Plan(nodes: nodes, synchronousSource: false)
        #expect(plan.inFlightBound >= plan.sourceCapacity + 10 + 20 + 30)
        // …and a reorder window adds room for the chunks it holds back.
        let unordered = Plan(nodes: [nodes[0], Self.async("y", workers: 2, buffer: 20, ordered: false), nodes[2]],
                             synchronousSource: false)
        #expect(plan.inFlightBound > unordered.inFlightBound)
    }
}
