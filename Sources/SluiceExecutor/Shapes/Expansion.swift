// Recursive expansion: every item processed may yield new items that are processed in turn (a crawl
// frontier, a graph walk, pagination), with dedupe, a depth limit and a count limit.
//
// No deadlock with full buffers: new items never go through a bounded channel. They go to the
// frontier (bounded) and, when it is full, onto the worker's own stack, which it works off before it
// takes anything else. So the only waits are a worker waiting for room downstream (the consumer
// never waits on this stage's input), the dispatcher waiting for room for a seed, and an idle worker
// waiting for work while another worker still holds some. The stage ends when its input has ended
// and no item is outstanding anywhere (queued, on a stack or being processed).

/// Remembers the items seen in one run (dedupe).
package final class SeenSet<Item> {
    private let insert: (Item) -> Bool
    /// - Parameter insert: Records an item; returns false if it was seen before.
    package init(_ insert: @escaping (Item) -> Bool) { self.insert = insert }
    package func isNew(_ item: Item) -> Bool { insert(item) }
}

/// How an expansion recognises items it has already seen: a fresh filter per run (or none).
package struct DedupeRule<Item>: Sendable {
    package var make: (@Sendable () -> SeenSet<Item>)?
    package init(make: (@Sendable () -> SeenSet<Item>)?) { self.make = make }
}

/// The expansion's limits.
package struct ExpansionLimits: Sendable, Hashable {
    /// Items deeper than this are not processed (inputs have depth 0).
    package var maxDepth: Int?
    /// At most this many items are processed in all (inputs included).
    package var maxCount: Int?
    /// Items the shared frontier holds before new items go on the worker's own stack.
    package var frontier: Int

    package init(maxDepth: Int?, maxCount: Int?, frontier: Int) {
        self.maxDepth = maxDepth
        self.maxCount = maxCount
        self.frontier = frontier
    }
}

/// The shared state of one expansion run.
struct Frontier<Item> {
    typealias Entry = (item: Item, depth: Int)
    var seeds = FIFO<Entry>()
    /// Newest first (a stack): the walk goes deep before wide, which keeps the frontier small.
    var stack: [Entry] = []
    let seedCapacity: Int
    let limits: ExpansionLimits
    let seen: SeenSet<Item>?
    /// Items admitted and not finished: queued, on a worker's stack, or being processed.
    var outstanding = 0
    var admitted = 0
    var inputEnded = false
    var inputFailure: (any Error)?

    init(seedCapacity: Int, limits: ExpansionLimits, seen: SeenSet<Item>?) {
        self.seedCapacity = seedCapacity
        self.limits = limits
        self.seen = seen
    }

    var isFull: Bool { limits.maxCount.map { admitted >= $0 } ?? false }

    /// Counts `item` in if it is within the limits and new.
    mutating func admit(_ item: Item, depth: Int) -> Bool {
        if let maxDepth = limits.maxDepth, depth > maxDepth { return false }
        if isFull { return false }
        if let seen, !seen.isNew(item) { return false }
        admitted += 1
        outstanding += 1
        return true
    }

    /// A seed from the input: `nil` to wait for room; `false` when it was dropped (seen or over the
    /// limit).
    mutating func offerSeed(_ item: Item) -> Bool? {
        guard seeds.count < seedCapacity else { return nil }
        guard admit(item, depth: 0) else { return false }
        seeds.append((item, 0))
        return true
    }

    /// New items: admitted ones go to the frontier while it has room; the rest are returned for the
    /// worker's own stack.
    mutating func add(_ items: [Item], depth: Int) -> [Entry] {
        var spill: [Entry] = []
        for item in items where admit(item, depth: depth) {
            if stack.count < limits.frontier { stack.append((item, depth)) } else { spill.append((item, depth)) }
        }
        return spill
    }

    /// The next item to process: `.some(nil)` when nothing is outstanding and the input ended; `nil`
    /// to wait.
    mutating func take() -> Entry?? {
        if let e = stack.popLast() { return .some(e) }
        if let e = seeds.popFirst() { return .some(e) }
        return inputEnded && outstanding == 0 ? .some(nil) : nil
    }
}

/// The body of `expand`: for each item, `step` returns an output and the item's successors, which
/// are processed in turn (outputs leave in completion order).
package struct ExpandBody<Input: Sendable, Output: Sendable>: LaunchingBody {
    /// Processes one item (the stage's name is for its `StageFailure`).
    package var step: @Sendable (Input, String) async throws -> (Output, [Input])
    package var dedupe: DedupeRule<Input>
    package var limits: ExpansionLimits

    package init(step: @escaping @Sendable (Input, String) async throws -> (Output, [Input]), dedupe: DedupeRule<Input>, limits: ExpansionLimits) {
        self.step = step
        self.dedupe = dedupe
        self.limits = limits
    }

    package func heldBound(workers: Int) -> Int {
        saturatingSum([workers, limits.frontier])
    }

    /// Inside a group or a branch: the whole expansion of each item runs in the enclosing worker,
    /// depth first (dedupe and the count limit apply per worker).
    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        let step = self.step, name = context.name, stop = context.stop, push = downstream.push
        let frontier = Box(Frontier<Input>(seedCapacity: Int.max, limits: limits, seen: dedupe.make?()))
        return AsyncSink(
            push: { x in
                guard frontier.value.admit(x, depth: 0) else { return }
                var local: [Frontier<Input>.Entry] = [(x, 0)]
                while let (item, depth) = local.popLast() {
                    if stop.isSet { throw CancellationError() }
                    let (y, next) = try await step(item, name)
                    try await push(y)
                    for n in next.reversed() where frontier.value.admit(n, depth: depth + 1) { local.append((n, depth + 1)) }
                }
            },
            finish: downstream.finish)
    }

    package func launch(_ segment: Plan.Segment, input: Channel<Input>, haltUpstream: @escaping @Sendable () -> Void,
                        group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Channel<Output>, @Sendable () -> Void) {
        let frontier = Monitor(Frontier<Input>(seedCapacity: segment.workers, limits: limits, seen: dedupe.make?()))
        let stage = LaunchedStage<Output>(segment, haltUpstream: haltUpstream, run: run, coordinator: frontier)
        run.onStop(stage.halt)
        let step = self.step, take = Plan.batchLimit(segment.capacity)
        // The dispatcher: the input's items are the seeds.
        group.addTask {
            await dispatch(input, take: take, offer: { x in
                _ = try await frontier.wait { $0.offerSeed(x) }
                guard frontier.update({ $0.isFull }) else { return true }
                // The count limit is reached: the input is not read any more.
                haltUpstream()
                return false
            }, ended: { failure in
                frontier.update { f in
                    f.inputEnded = true
                    f.inputFailure = failure
                }
            }, cancelled: { frontier.cancel() })
        }
        for index in 0..<segment.workers {
            group.addTask(executorPreference: segment.executorPreference) {
                await stage.runWorker(index) { stop in
                    // Items that did not fit in the frontier: this worker's own, newest first.
                    var local: [Frontier<Input>.Entry] = []
                    var outbox: [Output] = []
                    let name = segment.nodes[0].name
                    let probe = stage.meter?.makeProbe()
                    while true {
                        let entry: Frontier<Input>.Entry
                        if let e = local.popLast() {
                            entry = e
                        } else if let e = try await frontier.wait({ $0.take() }) {
                            entry = e
                        } else {
                            break
                        }
                        if stop.isSet { throw CancellationError() }
                        probe?.stages[0].countInput()
                        let busy = probe?.startBusy()
                        let y: Output, next: [Input]
                        do {
                            (y, next) = try await step(entry.item, name)
                        } catch {
                            if let probe { probe.sawError(error, in: probe.stages[0]) }
                            throw error
                        }
                        probe?.endBusy(since: busy)
                        probe?.countOutputs()
                        let spill = frontier.update { f in
                            let spill = f.add(next, depth: entry.depth + 1)
                            f.outstanding -= 1
                            return spill
                        }
                        local.append(contentsOf: spill.reversed())
                        outbox.append(y)
                        try await stage.output.send(&outbox)
                    }
                    return frontier.update { $0.inputFailure }
                }
            }
        }
        return (stage.output, stage.halt)
    }
}
