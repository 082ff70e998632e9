// Per-key order with parallelism across keys: a dispatcher queues each item under its key; a worker
// takes a key no other worker holds, processes its oldest item, and gives the key back.

/// The items waiting, per key, and which keys a worker holds. At most `capacity` items wait in all.
/// A worker always gets the oldest waiting item whose key no worker holds, so with one worker the
/// stage keeps input order, and no key waits behind younger items of other keys.
struct KeyedQueues<Key: Hashable, Item> {
    var queues: [Key: KeyQueue<Item>] = [:]
    /// Keys with waiting items that no worker holds, by the arrival of their oldest item.
    var ready: [(seq: Int, key: Key)] = []
    var busy: Set<Key> = []
    var held = 0
    var arrivals = 0
    let capacity: Int
    /// The input ended (with this failure, if any): workers drain what is held, then stop.
    var inputEnded = false
    var inputFailure: (any Error)?

    init(capacity: Int) { self.capacity = capacity }

    /// Queues `item` if there is room.
    mutating func offer(_ item: Item, key: Key) -> Bool {
        guard held < capacity else { return false }
        held += 1
        arrivals += 1
        let wasEmpty = queues[key]?.isEmpty ?? true
        queues[key, default: KeyQueue()].append((arrivals, item))
        if wasEmpty && !busy.contains(key) { markReady(key, since: arrivals) }
        return true
    }

    private mutating func markReady(_ key: Key, since seq: Int) {
        // Keys are few (at most `capacity`); a binary search keeps them sorted by arrival.
        var low = 0, high = ready.count
        while low < high {
            let mid = (low + high) / 2
            if ready[mid].seq < seq { low = mid + 1 } else { high = mid }
        }
        ready.insert((seq, key), at: low)
    }

    /// The oldest item of a key that no worker holds (the key is then held), `.some(nil)` at the
    /// end (input ended and nothing waits), `nil` to wait.
    mutating func take() -> (Key, Item)?? {
        if !ready.isEmpty {
            let key = ready.removeFirst().key
            busy.insert(key)
            let entry = queues[key]!.popFirst()!
            held -= 1
            return .some((key, entry.item))
        }
        return inputEnded && held == 0 ? .some(nil) : nil
    }

    /// The worker is done with its item of `key`.
    mutating func release(_ key: Key) {
        busy.remove(key)
        if let head = queues[key]?.first { markReady(key, since: head.seq) } else { queues[key] = nil }
    }
}

/// One key's waiting items, oldest first, with their arrival numbers.
struct KeyQueue<Item> {
    private var items: [(seq: Int, item: Item)] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var first: (seq: Int, item: Item)? { isEmpty ? nil : items[head] }

    mutating func append(_ entry: (seq: Int, item: Item)) { items.append(entry) }

    mutating func popFirst() -> (seq: Int, item: Item)? {
        guard !isEmpty else { return nil }
        defer {
            head += 1
            if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        }
        return items[head]
    }
}

/// A stage that keeps input order within each key and lets keys overtake each other: `inner` runs
/// on every item, each key's items one at a time in input order, different keys on different
/// workers at once.
///
/// Memory: at most `window` items wait in the queues, plus one item per worker. A slow key holds
/// only its own items: the others keep flowing until the waiting items are all of that key.
package struct PartitionedBody<Input: Sendable, Output: Sendable, Key: Hashable & Sendable>: LaunchingBody, WrapsStage, GroupBodyProtocol {
    package var inner: StageNode
    package var key: @Sendable (Input) -> Key
    /// Items that may wait in the queues (`nil`: 4 per worker, at least 16).
    package var window: Int?

    package init(inner: StageNode, key: @escaping @Sendable (Input) -> Key, window: Int? = nil) {
        self.inner = inner
        self.key = key
        self.window = window
    }

    package var nodes: [StageNode] { [inner] }

    package func heldBound(workers: Int) -> Int { window ?? Swift.max(16, 4 * workers) }

    /// Inside a group or a branch: the inner stage, in the enclosing worker (one item at a time, so
    /// every key keeps its order).
    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        SinkComposer.async([inner], tail: downstream, context: context)
    }

    package func launch(_ segment: Plan.Segment, input: Channel<Input>, haltUpstream: @escaping @Sendable () -> Void,
                        group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Channel<Output>, @Sendable () -> Void) {
        let queues = Monitor(KeyedQueues<Key, Input>(capacity: heldBound(workers: segment.workers)))
        let stage = LaunchedStage<Output>(segment, haltUpstream: haltUpstream, run: run, coordinator: queues)
        run.onStop(stage.halt)
        let key = self.key, inner = self.inner, take = Plan.batchLimit(segment.capacity)
        // A name given to the partitioned stage prefixes its inner stages' names, as a group's does.
        let path = segment.nodes[0].isNamed ? segment.nodes[0].name : nil
        group.addTask {
            await dispatch(input, take: take, offer: { x in
                let k = key(x)
                return try await queues.wait { $0.offer(x, key: k) ? true : nil }
            }, ended: { failure in
                queues.update { q in
                    q.inputEnded = true
                    q.inputFailure = failure
                }
            }, cancelled: { queues.cancel() })
        }
        for index in 0..<segment.workers {
            group.addTask(executorPreference: segment.executorPreference) {
                await stage.runWorker(index) { stop in
                    let scope = WorkerScope()
                    let outbox = Box<[Output]>([])
                    let probe = stage.meter?.makeProbe()
                    let sink: AsyncSink<Input> = SinkComposer.async(
                        [inner], tail: AsyncSink(push: { outbox.value.append($0) }, finish: {}),
                        context: StageContext(name: "", path: path, stop: stop, scope: scope), probe: probe)
                    do {
                        try await scope.start()
                        while let (k, x) = try await queues.wait({ $0.take() }) {
                            let busy = probe?.startBusy()
                            try await sink.push(x)
                            probe?.endBusy(since: busy)
                            // The key is given back only once the item's outputs are handed over,
                            // so the key's next item cannot overtake them.
                            try await stage.output.send(&outbox.value)
                            queues.update { $0.release(k) }
                        }
                        try await sink.finish()
                        try await stage.output.send(&outbox.value)
                    } catch {
                        // The outputs made before the failure (an expansion's first children) go
                        // out first, as from any stage; not when the worker was told to stop.
                        if !stop.isSet { try? await stage.output.send(&outbox.value) }
                        await scope.exit()
                        throw error
                    }
                    await scope.exit()
                    return queues.update { $0.inputFailure }
                }
            }
        }
        return (stage.output, stage.halt)
    }
}
