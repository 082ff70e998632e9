// The plan: which stages share a task, how many workers each group has, and every buffer's size.

/// The executable shape of a graph: consecutive *segments*, each run by its own workers and joined
/// by bounded channels.
///
/// Fusion rule: consecutive stages that are synchronous, emit at most one output per
/// input and have no explicit option (`workers`, `buffer`, `unordered`) share one task. Such a
/// run of stages also joins the asynchronous stage right after it when that stage runs a kernel
/// (`map`, `tryMap`, with retry, timeout, middleware or observers; see `StageBody.acceptsSynchronousPrefix`) on one
/// worker: its worker runs the synchronous stages on each chunk, then the asynchronous one on
/// each item, with no channel and no task between them. Every other stage — async, expanding (`flatMap`)
/// or configured — is a segment of its own.
package struct Plan: Sendable {
    /// Default capacity of a single-worker stage's output channel, in items: cheap items move in
    /// large batches, and an async stage's producer runs ahead instead of waking its consumer per
    /// item (W6: 16 instead of 512 made three async stages twice as slow). Measured on the W1 benchmark (Docs/Performance.md): 256 → 29 M
    /// items/s, 512 → 45 M, 1024 → 44 M; 512 keeps memory lower. A channel reaches it by slow
    /// start (`startingLimit`), so a consumer that asks for a few items does not fill it.
    package static let defaultBuffer = 512
    /// Default capacity of an asynchronous source's channel: a live source is not over-consumed
    /// (with `workers(8)` behind it the whole run holds at most a few hundred items; see
    /// `inFlightBound`).
    package static let concurrentBuffer = 16
    /// Default capacity of a parallel stage's output channel: small, so a live source is not
    /// over-consumed, but large enough that the workers' hand-overs (at most a channel's capacity
    /// each) do not wake the consumer every few items. W3 (20 µs items, `workers(2)`): 16 → 1.73–1.81×
    /// the loop's speed, 48 → 1.93× (a 2-task group: 1.96–1.98×), in the same runs.
    package static let parallelBuffer = 48
    /// Default reorder window of an ordered parallel stage, in input items per worker: workers
    /// keep taking items past a slow one until the completed items held back span this many.
    package static let windowPerWorker = 16
    /// The capacity a run's channel starts with (*slow start*): it doubles each time the consumer
    /// takes half of it or more, up to the channel's capacity. What leaves the source follows what
    /// the consumer asks for: `take(3)` or `first()` read a few items, not whole buffers.
    package static let startingLimit = 2
    /// The most items a worker takes or hands over at once.
    package static let maxBatch = 1024
    /// The most workers a stage may have (checked by `workers(_:)`). Each worker is a long-lived
    /// task with its own input chunk and outbox (up to `2 × maxBatch` items), an ordered stage holds
    /// up to one chunk per worker in its reorder window, and the source channel holds at least one
    /// item per worker of the first stage: 10,000 is far above any useful concurrency (10,000
    /// requests in flight) while keeping the number of tasks and the memory bound finite.
    package static let maxWorkers = 10_000

    package struct Segment: Sendable {
        package var nodes: [StageNode]
        package var workers: Int
        package var ordered: Bool
        /// Capacity of this segment's output channel.
        package var capacity: Int
        /// All nodes are fusible: the worker runs their composed chunk kernel.
        package var isSynchronous: Bool
        /// Items a worker takes from its input per receive.
        package var takeLimit: Int
        /// Outputs a worker accumulates before handing them over.
        package var outboxLimit: Int
        /// Where the workers run (`nil` = the cooperative pool).
        package var executorPreference: (any TaskExecutor)?
        /// Input items the completed chunks an ordered multi-worker stage holds back may span
        /// (its reorder window); `0` when it keeps no window.
        package var window: Int
        /// Input items a timed stage's reader holds ahead of its worker: the chunk in its hand
        /// and its inbox (see `TimedSegmentWorker`); `0` for other stages.
        package var readAhead: Int = 0
        package var name: String { nodes.count == 1 ? nodes[0].name : nodes.map(\.name).joined(separator: "+") }
    }

    package var segments: [Segment]
    /// The source is read inside the first segment's single worker (sync source, fusible start).
    package var sourceFused: Bool
    /// Capacity of the source's channel (when not fused), and the size of the chunks it reads.
    package var sourceCapacity: Int
    /// Items the consumer takes per receive.
    package var consumerLimit: Int
    /// The source is read in batches (a `Sequence`), not one item at a time.
    package var sourceIsSynchronous: Bool
    /// The source's read-ahead is bounded by weight: it is read one item at a time.
    package var sourceIsWeighed: Bool

    /// - Parameters:
    ///   - weighedSource: the source's read-ahead is bounded by weight: it is read by its own
    ///     task, one item at a time, into a weight-bounded channel.
    package init(nodes: [StageNode], synchronousSource: Bool, weighedSource: Bool = false) {
        var segments: [Segment] = []
        for node in nodes {
            if node.isFusible, let last = segments.last, last.isSynchronous, last.workers == 1, last.nodes.allSatisfy(\.isFusible) {
                segments[segments.count - 1].nodes.append(node)
                continue
            }
            // The synchronous stages just before an asynchronous kernel with one worker join its
            // segment, which takes the asynchronous stage's options (its buffer, its name). Not
            // before several workers: the synchronous stages would then run on several tasks,
            // out of input order (a `forEach` logging, a `scan`'s state).
            let prefix: [StageNode]
            if !node.body.isFusible, node.body.acceptsSynchronousPrefix, (node.options.workers ?? 1) == 1,
               node.executorPreference == nil, node.options.maxWeight == nil,
               let last = segments.last, last.isSynchronous, last.workers == 1, last.nodes.allSatisfy(\.isFusible) {
                prefix = segments.removeLast().nodes
            } else {
                prefix = []
            }
            let workers = node.options.workers ?? 1
            let isSynchronous = node.body.isFusible && node.executorPreference == nil
            assert(prefix.isEmpty || !isSynchronous)
            let capacity = node.options.buffer ?? (workers == 1 ? Plan.defaultBuffer : Plan.parallelBuffer)
            let ordered = node.options.ordered
            let window = ordered && workers > 1 ? (node.options.window ?? (Saturating(workers) * Plan.windowPerWorker).value) : 0
            // Unordered workers share the hand-over: together they hold at most one channel's
            // worth. Ordered ones hand whole chunks to the sequencer (a smaller outbox would make
            // them wait for their turn in the middle of a chunk instead of depositing it).
            // A weight-bounded stage hands over each output as it is made: its workers hold at
            // most one heavy item each beyond the bound.
            let outboxLimit = node.options.maxWeight != nil ? 1
                : window > 0 ? Plan.handOverLimit(capacity) : max(1, Plan.handOverLimit(capacity) / workers)
            segments.append(Segment(
                nodes: prefix + [node], workers: workers, ordered: ordered, capacity: capacity, isSynchronous: isSynchronous,
                takeLimit: 1, outboxLimit: outboxLimit, executorPreference: node.executorPreference, window: window))
        }
        // Take limits follow the capacity of the channel each segment reads from.
        let firstLimit = segments.first.map { Plan.batchLimit($0.capacity) } ?? Plan.defaultBuffer
        sourceCapacity = max(segments.first?.workers ?? 1, synchronousSource ? firstLimit : min(firstLimit, Plan.concurrentBuffer))
        sourceIsSynchronous = synchronousSource
        var upstream = sourceCapacity
        for i in segments.indices {
            let s = segments[i]
            // Workers share their input: each takes at most its share of the channel (an async
            // stage's workers, at run time, a share of what is queued: see `SegmentWorker`).
            let perWorker = max(1, Plan.batchLimit(upstream) / s.workers)
            // A weight-bounded stage takes one item at a time (a chunk's outputs would all be in hand).
            segments[i].takeLimit = s.nodes.last?.options.maxWeight != nil ? 1 : perWorker
            if s.nodes.count == 1, let timed = s.nodes[0].body as? any TimedStageBody {
                let take = segments[i].takeLimit
                segments[i].readAhead = (Saturating(take) + (timed.inboxCapacity ?? take)).value
            }
            upstream = s.capacity
        }
        sourceIsWeighed = weighedSource
        sourceFused = !weighedSource && synchronousSource && segments.first.map { $0.isSynchronous && $0.workers == 1 } == true
        if sourceFused { segments[0].takeLimit = segments[0].outboxLimit }
        // After a parallel stage the consumer takes small batches (it is not woken more often for
        // it: it takes what is there without waiting), so what it holds stays small.
        consumerLimit = Plan.batchLimit(segments.last.map { $0.workers > 1 ? min($0.capacity, Plan.concurrentBuffer) : $0.capacity } ?? sourceCapacity)
        self.segments = segments
    }

    /// A channel of capacity `c` is drained in batches of up to this many items.
    package static func batchLimit(_ capacity: Int) -> Int { min(maxBatch, max(1, capacity)) }

    /// A worker hands over its outputs in batches of up to this many items: the whole output
    /// channel. (Smaller hand-overs, a half or a quarter of the channel, measured slower: the
    /// per-batch cost outweighs the overlap they buy.)
    package static func handOverLimit(_ capacity: Int) -> Int { batchLimit(capacity) }

    /// The most items that can have left the source without having been delivered to the consumer,
    /// for stages that emit one output per input (`map`, `forEach`): the documented memory bound.
    ///
    /// source: its channel plus what the source task holds (a chunk read from a `Sequence`, one
    /// item from an `AsyncSequence`; fused: one chunk in the first worker); each segment: per
    /// worker, one input chunk and one outbox (in an ordered parallel stage, the outputs of its
    /// chunk); its output channel; its reorder window; a timed stage's read-ahead (its reader's
    /// chunk and its inbox: `readAhead`); the consumer: one batch in hand.
    /// `Int.max` when a stage has an unbounded buffer: there is no bound then; also when the bound
    /// does not fit in an `Int` (huge buffers): the computation saturates.
    package var inFlightBound: Int {
        if segments.contains(where: { $0.capacity == Int.max }) { return Int.max }
        var total = sourceFused ? Saturating(0) : Saturating(sourceCapacity) + (sourceIsSynchronous && !sourceIsWeighed ? sourceCapacity : 1)
        for s in segments {
            let outbox = s.window > 0 ? min(s.outboxLimit, s.takeLimit) : s.outboxLimit
            let perWorker = Saturating(s.takeLimit) + outbox
            total = total + Saturating(s.workers) * perWorker + s.capacity + s.window + s.readAhead
        }
        if segments.isEmpty { total = Saturating(2) * sourceCapacity }
        return (total + consumerLimit).value
    }
}

/// A non-negative count whose arithmetic stops at `Int.max` instead of trapping.
private struct Saturating {
    var value: Int
    init(_ value: Int) { self.value = value }

    static func + (a: Saturating, b: Saturating) -> Saturating {
        let (sum, overflow) = a.value.addingReportingOverflow(b.value)
        return Saturating(overflow ? .max : sum)
    }
    static func + (a: Saturating, b: Int) -> Saturating { a + Saturating(b) }
    static func * (a: Saturating, b: Saturating) -> Saturating {
        let (product, overflow) = a.value.multipliedReportingOverflow(by: b.value)
        return Saturating(overflow ? .max : product)
    }
    static func * (a: Saturating, b: Int) -> Saturating { a * Saturating(b) }
}
