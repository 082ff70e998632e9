// The bounded channel's logic as a pure value: every operation returns what must be resumed.
// No locks and no awaits here (the storage, `Channel`, owns the lock and resumes continuations).

/// Identifies a suspended sender or receiver.
package typealias WaiterID = UInt64


/// The state of a bounded multi-producer multi-consumer channel.
///
/// `Continuation` is whatever resumes a suspended task (the storage uses
/// `UnsafeContinuation<Void, Never>`; the tests use plain values). A resumed task re-checks the
/// state, so a wake-up carries no payload.
///
/// Items live in `queue` (at most `capacity`) or in the batches of parked senders, which receivers
/// take from directly once the queue is empty. A sender is resumed when its whole batch has been
/// taken or moved into the queue, which makes `capacity == 0` an exact rendezvous.
package struct ChannelStateMachine<Element, Continuation> {
    package enum Phase: Equatable { case open, finished, cancelled }

    package struct ParkedSender {
        var id: WaiterID
        var items: FIFO<Element>
        var continuation: Continuation?
    }

    package let capacity: Int
    /// A non-urgent send wakes a waiting receiver only once this many items are queued, so a fast
    /// producer is not woken against on every batch; an urgent send (the sender is about to
    /// wait) or a `poke` wakes it whatever the count.
    package let wakeThreshold: Int
    package private(set) var phase: Phase = .open
    package private(set) var producers: Int
    private var queue = FIFO<Element>()
    private var parked: [ParkedSender] = []
    /// An emptied batch array kept for the next parked sender: parking moves the sender's array
    /// into the channel and hands this one back, so steady-state hand-overs allocate nothing.
    private var spare: [Element] = []
    // Continuations only (no ids, no tuples): this code runs unspecialized per batch, and every
    // generic type it touches costs a metadata lookup.
    private var receivers: [Continuation] = []
    /// Items ever handed to receivers: the sequence number of the next item out.
    package private(set) var dequeued = 0

    package init(capacity: Int, producers: Int) {
        precondition(capacity >= 0 && producers >= 1)
        self.capacity = capacity
        self.producers = producers
        self.wakeThreshold = capacity == Int.max ? Plan.maxBatch : Swift.max(1, capacity / 2)
    }

    /// Items held by the channel, queued or parked.
    package var buffered: Int { queue.count + parked.reduce(0) { $0 + $1.items.count } }
    package var waitingReceivers: Int { receivers.count }
    package var parkedSenders: Int { parked.count }

    // MARK: send

    package enum SendAction {
        /// Every item fit; resume these receivers (with `.retry`).
        case done(wake: Wakeups<Continuation>)
        /// Some items did not fit: the caller must suspend and then call `park`.
        case mustPark
        /// The channel is cancelled: the items are dropped and the sender stops.
        case cancelled
    }

    /// Offers `batch`: moves what fits into the queue, leaving the rest in `batch`. A non-`urgent`
    /// send wakes receivers only once `wakeThreshold` items are queued.
    package mutating func send(_ batch: inout [Element], urgent: Bool = true) -> SendAction {
        guard phase == .open else {
            batch.removeAll(keepingCapacity: true)
            return .cancelled
        }
        let room = capacity == Int.max ? batch.count : Swift.max(0, capacity - queue.count)
        // A parked sender is ahead of us: keep FIFO order by parking behind it.
        let n = parked.isEmpty ? Swift.min(room, batch.count) : 0
        if n == batch.count {
            queue.append(contentsOf: batch)
            batch.removeAll(keepingCapacity: true)
            return .done(wake: urgent || queue.count >= wakeThreshold ? wakeReceivers() : Wakeups())
        }
        queue.append(contentsOf: batch[..<n])
        batch.removeFirst(n)
        return .mustPark
    }

    /// Parks the rest of a sender's batch (after `send` said `.mustPark`). Returns the
    /// continuations to resume: receivers that can now take the parked items, or — when the
    /// channel was cancelled in between — the sender itself.
    package mutating func park(id: WaiterID, items batch: inout [Element], continuation: Continuation) -> (receivers: Wakeups<Continuation>, sender: Continuation?) {
        guard phase == .open else {
            batch.removeAll(keepingCapacity: true)
            return (Wakeups(), continuation)
        }
        var storage = spare
        spare = []
        swap(&storage, &batch)
        parked.append(ParkedSender(id: id, items: FIFO(adopting: storage), continuation: continuation))
        return (wakeReceivers(), nil)
    }

    // MARK: receive

    package enum ReceiveAction {
        /// Took `count` items (sequence numbers `first..<first+count`); resume these senders.
        case items(first: Int, count: Int, wake: Wakeups<Continuation>)
        /// Nothing now: suspend and call `wait`.
        case mustWait
        /// All producers finished and everything was taken.
        case end
        case cancelled
    }

    /// Takes up to `limit` items: from the queue first, then from parked senders' batches.
    package mutating func receive(into buffer: inout [Element], limit: Int) -> ReceiveAction {
        switch phase {
        case .cancelled: return .cancelled
        case .open, .finished: break
        }
        let first = dequeued
        var taken = queue.take(upTo: limit, into: &buffer)
        var wake = Wakeups<Continuation>()
        // Refill the queue from parked senders, then hand parked items straight to this receiver.
        while !parked.isEmpty {
            if taken < limit && queue.isEmpty {
                taken += parked[0].items.take(upTo: limit - taken, into: &buffer)
            } else if capacity == Int.max || queue.count < capacity {
                parked[0].items.move(upTo: capacity == Int.max ? Int.max : capacity - queue.count, into: &queue)
            } else {
                break
            }
            if parked[0].items.isEmpty {
                var done = parked.removeFirst()
                spare = done.items.releaseStorage()
                if let c = done.continuation { wake.append(c) }
            } else if taken >= limit && (capacity != Int.max && queue.count >= capacity) {
                break
            }
        }
        if taken > 0 {
            dequeued += taken
            // Items left over and other receivers waiting: pass the word on.
            if !receivers.isEmpty && (!queue.isEmpty || !parked.isEmpty) { wake.append(contentsOf: wakeReceivers()) }
            return .items(first: first, count: taken, wake: wake)
        }
        precondition(wake.isEmpty)
        return phase == .finished ? .end : .mustWait
    }

    /// Registers a suspended receiver (after `receive` said `.mustWait`). Returns the continuation
    /// to resume at once if something changed in between.
    package mutating func wait(id: WaiterID, continuation: Continuation) -> Continuation? {
        if phase != .open || !queue.isEmpty || !parked.isEmpty { return continuation }
        receivers.append(continuation)
        return nil
    }

    /// The sender is about to wait for something else: wake receivers for whatever is queued.
    package mutating func poke() -> Wakeups<Continuation> {
        phase == .cancelled ? Wakeups() : wakeReceivers()
    }

    // MARK: lifecycle

    /// One producer is done. When the last one is, waiting receivers are told to look again
    /// (they will drain what is left and then see the end).
    package mutating func finish() -> [Continuation] {
        guard phase == .open else { return [] }
        producers -= 1
        precondition(producers >= 0, "channel finished more often than it has producers")
        guard producers == 0 else { return [] }
        phase = .finished
        return takeAllReceivers()
    }

    /// Stops the channel: items are dropped, every waiter is resumed and later calls fail.
    package mutating func cancel() -> (receivers: [Continuation], senders: [Continuation]) {
        guard phase != .cancelled else { return ([], []) }
        phase = .cancelled
        queue.removeAll()
        let senders = parked.compactMap(\.continuation)
        parked.removeAll()
        return (takeAllReceivers(), senders)
    }

    private mutating func takeAllReceivers() -> [Continuation] {
        var all: [Continuation] = []
        swap(&all, &receivers)
        return all
    }

    /// Wakes as many receivers as there are items to share (one per waiter, oldest first);
    /// each woken receiver takes what it can when it runs.
    private mutating func wakeReceivers() -> Wakeups<Continuation> {
        var woken = Wakeups<Continuation>()
        if receivers.isEmpty { return woken }
        let available = queue.count + (parked.isEmpty ? 0 : 1)
        // Oldest first; `removeFirst` keeps the array's storage, so nothing is allocated.
        for _ in 0..<Swift.min(available, receivers.count) { woken.append(receivers.removeFirst()) }
        return woken
    }
}

/// The continuations an operation must resume. Almost always none or one: the first is stored
/// inline, so the common case allocates nothing (an array would, for every wake-up).
package struct Wakeups<Continuation>: Sequence {
    private var first: Continuation?
    private var rest: [Continuation] = []

    package init() {}

    package var isEmpty: Bool { first == nil }

    package mutating func append(_ continuation: Continuation) {
        if first == nil { first = continuation } else { rest.append(continuation) }
    }

    package mutating func append(contentsOf other: Wakeups<Continuation>) {
        for c in other { append(c) }
    }

    package struct Iterator: IteratorProtocol {
        var first: Continuation?
        var rest: IndexingIterator<[Continuation]>

        package mutating func next() -> Continuation? {
            if let f = first {
                first = nil
                return f
            }
            return rest.next()
        }
    }

    package func makeIterator() -> Iterator { Iterator(first: first, rest: rest.makeIterator()) }
}

extension Wakeups: Sendable where Continuation: Sendable {}
extension Wakeups.Iterator: Sendable where Continuation: Sendable {}
