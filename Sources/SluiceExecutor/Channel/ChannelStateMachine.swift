// The bounded channel's logic as a pure value: each event returns the one action its caller must
// take. No locks and no awaits here: the storage, `Channel`, takes its lock, asks this machine what
// to do, leaves the lock, and then does it (resumes continuations, returns or throws).

/// The state of a bounded multi-producer multi-consumer channel.
///
/// `Continuation` is whatever resumes a suspended task (the storage uses
/// `UnsafeContinuation<Void, Never>`; the tests use plain integers). A resumed task re-checks the
/// state, so a wake-up carries no payload. Every continuation handed in (to `park` or `wait`) comes
/// back in exactly one later action, once.
///
/// Items live in `queue` (at most `limit`, which grows to `capacity`) or in the batches of parked senders, which receivers
/// take from directly once the queue is empty. A sender is resumed when its whole batch has been
/// taken or moved into the queue, which makes `capacity == 0` an exact rendezvous.
///
/// Lifecycle: `open` → `finished` (when the last producer finishes); `open` or `finished` →
/// `cancelled`. Invariants of every phase: the parked senders' batches are not empty and are kept
/// in arrival order; the queue holds at most `limit` items (`limit` ≤ `capacity`, and it never shrinks); `dequeued` counts every item ever
/// handed to a receiver.
@usableFromInline
package struct ChannelStateMachine<Element, Continuation> {
    @usableFromInline
    package enum Phase {
        /// Producers may still send. `producers` (≥ 1) have not finished; `failure` is the first
        /// failure a finished producer ended the stream with, kept for after the last item.
        /// Data: items may be queued or parked; senders may be parked; receivers may wait, each
        /// registered when nothing was queued or parked (a non-urgent send may queue items below
        /// `wakeThreshold` next to them, until an urgent send or `poke`).
        case open(producers: Int, failure: (any Error)?)
        /// Every producer finished: no item is accepted any more. What is queued or parked drains;
        /// then receivers see the end, or `failure`. Data: no receiver waits (the last finish woke
        /// them all and `wait` returns at once from now on).
        case finished(failure: (any Error)?)
        /// Stopped: every item was dropped and every waiter resumed; every later event says so.
        /// Data: nothing is queued or parked and no receiver waits.
        case cancelled
    }

    @usableFromInline
    package struct ParkedSender {
        /// The rest of the sender's batch, never empty while parked.
        @usableFromInline var items: FIFO<Element>
        @usableFromInline var continuation: Continuation

        @inlinable init(items: FIFO<Element>, continuation: Continuation) {
            self.items = items
            self.continuation = continuation
        }
    }

    @usableFromInline package let capacity: Int
    /// The capacity in force now (*slow start*): it starts small and doubles each time a receive
    /// takes at least half of it, up to `capacity`. So items leave a producer as fast as the
    /// consumer asks for them: a consumer that needs three items does not make the producer fill
    /// the whole buffer first, while one that keeps taking full batches soon gets all of it.
    @usableFromInline package var limit: Int
    /// A non-urgent send wakes a waiting receiver only once this many items are queued, so a fast
    /// producer is not woken against on every batch; an urgent send (the sender is about to
    /// wait) or a `poke` wakes it whatever the count.
    @usableFromInline package var wakeThreshold: Int
    @usableFromInline package var phase: Phase
    /// A bound on the queued items' total weight as well as their count (`nil`: count only).
    /// An item heavier than the whole bound still enters an empty queue, alone.
    @usableFromInline let weightBound: WeightBound<Element>?
    /// The queued items' total weight (`0` without a weight bound).
    @usableFromInline package var queuedWeight = 0
    @usableFromInline var queue = FIFO<Element>()
    @usableFromInline var parked: [ParkedSender] = []
    /// An emptied batch array kept for the next parked sender: parking moves the sender's array
    /// into the channel and hands this one back, so steady-state hand-overs allocate nothing.
    @usableFromInline var spare: [Element] = []
    // Continuations only (no ids, no tuples): this code runs unspecialized per batch, and every
    // generic type it touches costs a metadata lookup.
    @usableFromInline var receivers: [Continuation] = []
    /// Receivers yielding in a loop until items arrive (`Channel.receive` on a busy channel): while
    /// one does, a send wakes no waiting receiver. The spinner looks under the lock once it stops,
    /// so it takes what was sent meanwhile, and a parked receiver is not woken (a thread wake-up
    /// and a task switch) for an item that a running one takes a moment later.
    @usableFromInline package var spinningReceivers = 0
    /// Receivers resumed for items that have not looked at the channel since (any receive or
    /// wait counts one down). While one is on its way, `sendOne` wakes no other: the woken one
    /// takes what arrives meanwhile, and passes the word on if it leaves items (`takeQueued`);
    /// only if `wakeThreshold` items pile up first does a send wake another.
    /// Without this, items sent one at a time to a parallel stage woke a parked worker each, and
    /// each worker took a single item (W6 `workers(4)`: a chunk per item, a task switch each).
    /// Batch sends still wake a receiver per item, so slow items spread over the workers.
    @usableFromInline package var wokenReceivers = 0
    /// Receivers that took items saying they come back for more as soon as they are done with
    /// them (`comesBack`: a worker of a parallel stage whose items are quick), and have not yet
    /// (`receiverReturned`). While one is away, `sendOne` wakes no parked receiver either, unless
    /// `wakeThreshold` items pile up: the returning one takes them sooner than a parked worker
    /// woken for them would (a thread wake-up and a task switch cost more than such items).
    /// Without this, the workers of a parallel stage whose items are quick all took turns, each
    /// parking and being woken for a few items (W6 `workers(4)`: ten times the wake-ups of one
    /// worker).
    @usableFromInline package var returningReceivers = 0
    /// Items ever handed to receivers: the sequence number of the next item out.
    @usableFromInline package var dequeued = 0

    /// - Parameters:
    ///   - capacity: the most items queued (`0`: a rendezvous, `Int.max`: unbounded).
    ///   - producers: senders that will each `finish`.
    ///   - startingLimit: the capacity in force at first (see `limit`); `nil`: all of it.
    @inlinable
    package init(capacity: Int, producers: Int, startingLimit: Int? = nil, weightBound: WeightBound<Element>? = nil) {
        precondition(capacity >= 0 && producers >= 1)
        self.capacity = capacity
        self.weightBound = weightBound
        self.phase = .open(producers: producers, failure: nil)
        let limit = capacity == Int.max ? Int.max : Swift.min(capacity, Swift.max(1, startingLimit ?? capacity))
        self.limit = limit
        self.wakeThreshold = Self.wakeThreshold(limit)
    }

    @inlinable
    static func wakeThreshold(_ limit: Int) -> Int {
        limit == Int.max ? 1024 : Swift.max(1, limit / 2)   // 1024: Plan.maxBatch
    }

    /// How many of `items`' first ones (at most `room`) fit under the weight bound, and adds
    /// their weight to the queue's.
    @inlinable
    mutating func admit(_ items: FIFO<Element>, room: Int) -> Int {
        guard let bound = weightBound else { return Swift.min(room, items.count) }
        var total = queuedWeight
        let empty = queue.isEmpty
        var n = 0
        let count = items.countPrefix(upTo: room) { item in
            let w = Swift.max(0, bound.weigh(item))
            // An item heavier than the bound still passes when the queue is empty.
            guard total <= bound.max - w || (empty && n == 0) else { return false }
            total = w > Int.max - total ? Int.max : total + w
            n += 1
            return true
        }
        queuedWeight = total
        return count
    }

    /// How many of `items`' first ones (at most `limit`) a receiver takes within the weight it
    /// may still take (`budget`, reduced by theirs); the `first` item of a receive is always taken.
    @inlinable
    func within(_ budget: inout Int, _ items: FIFO<Element>, _ limit: Int, first: Bool) -> Int {
        guard let bound = weightBound else { return limit }
        var n = 0
        return items.countPrefix(upTo: limit) { item in
            let w = Swift.max(0, bound.weigh(item))
            guard w <= budget || (first && n == 0) else { return false }
            budget = Swift.max(0, budget - w)
            n += 1
            return true
        }
    }

    /// Items just taken from the queue (the last `n` of `buffer`) no longer weigh on it.
    @inlinable
    mutating func release(_ n: Int, of buffer: [Element]) {
        guard let bound = weightBound, n > 0 else { return }
        var total = queuedWeight
        FIFO.forEachLast(n, of: buffer) { total -= Swift.max(0, bound.weigh($0)) }
        queuedWeight = queue.isEmpty ? 0 : Swift.max(0, total)
    }

    /// A receive took `taken` items: a consumer taking half the limit or more gets a doubled one.
    /// One of several consumers that takes while others wait (the workers of a parallel stage
    /// each take one item) gets up to twice what the waiting consumers ask for together, at most
    /// a doubling (doubling without that cap let an eager parallel stage pull the channel to its
    /// capacity; room for exactly the waiters fed W7's 256 workers too slowly). Not
    /// one that merely finds a producer waiting: that says nothing of what consumers ask for.
    @inlinable
    mutating func grow(taken: Int) {
        guard limit < capacity else { return }
        if taken >= Swift.max(1, limit / 2) {
            limit = limit > capacity / 2 ? capacity : limit * 2
        } else if 2 * (receivers.count + taken) > limit {
            limit = Swift.min(capacity, limit * 2, 2 * (receivers.count + taken))
        } else {
            return
        }
        wakeThreshold = Self.wakeThreshold(limit)
    }

    /// Items held by the channel, queued or parked.
    @inlinable
    package var buffered: Int { queue.count + parked.reduce(0) { $0 + $1.items.count } }
    @inlinable package var waitingReceivers: Int { receivers.count }
    /// Items in the queue (parked senders' batches not counted).
    @inlinable package var queuedCount: Int { queue.count }
    package var parkedSenders: Int { parked.count }
    @inlinable package var isCancelled: Bool {
        if case .cancelled = phase { return true }
        return false
    }

    // MARK: send

    @usableFromInline
    package enum SendAction {
        /// Every item was queued: resume `receivers` (often none) and return.
        case resumeReceivers(Wakeups<Continuation>)
        /// Some items did not fit and are still in the batch: suspend, and `park` them.
        case suspendAndPark
        /// The channel takes no more items (it was cancelled, or every producer finished): the
        /// batch was emptied; throw `CancellationError`.
        case throwCancellation
    }

    /// Offers `batch`: moves what fits into the queue, leaving the rest in `batch`. A non-`urgent`
    /// send wakes receivers only once `wakeThreshold` items are queued.
    @inlinable
    package mutating func send(_ batch: inout [Element], urgent: Bool = true) -> SendAction {
        guard case .open = phase else {
            batch.removeAll(keepingCapacity: true)
            return .throwCancellation
        }
        let room = limit == Int.max ? batch.count : Swift.max(0, limit - queue.count)
        // A parked sender is ahead of us: keep FIFO order by parking behind it.
        let n = parked.isEmpty ? (weightBound == nil ? Swift.min(room, batch.count) : admit(FIFO(adopting: batch), room: room)) : 0
        if n == batch.count {
            queue.append(contentsOf: batch)
            batch.removeAll(keepingCapacity: true)
            return .resumeReceivers(urgent || queue.count >= wakeThreshold ? wakeReceivers() : Wakeups())
        }
        queue.append(contentsOf: batch[..<n])
        batch.removeFirst(n)
        return .suspendAndPark
    }

    /// `send` on its common path: the channel is open with room for the whole batch, no sender
    /// is parked ahead and no weight bound applies. Queues the batch (emptying it) and returns the
    /// receivers to resume; `nil` (nothing done) otherwise. Compiled where the element type is
    /// concrete.
    @inlinable
    package mutating func sendQueued(_ batch: inout [Element], urgent: Bool) -> Wakeups<Continuation>? {
        guard case .open = phase, parked.isEmpty, weightBound == nil,
              limit == Int.max || queue.count + batch.count <= limit else { return nil }
        queue.append(contentsOf: batch)
        batch.removeAll(keepingCapacity: true)
        if receivers.isEmpty || !(urgent || queue.count >= wakeThreshold) { return Wakeups() }
        return wakeReceivers()
    }

    /// What `sendOne` leaves its caller to do.
    @usableFromInline
    package enum SendOneAction {
        /// The item was queued; no receiver waits.
        case queued
        /// The item was queued: resume this receiver, which takes it (and what else is queued).
        case resumeReceiver(Continuation)
        /// Not the simple case (the channel is full or not open, a sender is parked, a weight
        /// bound applies): nothing was done; send it as a batch of one.
        case useSend
    }

    /// Offers one item on the common path: the channel is open and has room, no sender is parked
    /// ahead of it, and no weight bound applies. Compiled where the element type is concrete.
    @inlinable
    package mutating func sendOne(_ element: Element) -> SendOneAction {
        guard case .open = phase, parked.isEmpty, weightBound == nil, queue.count < limit else { return .useSend }
        queue.append(element)
        // A woken or returning receiver on its way takes the items, unless they pile up first.
        if receivers.isEmpty || spinningReceivers > 0 || ((wokenReceivers > 0 || returningReceivers > 0) && queue.count < wakeThreshold) {
            return .queued
        }
        wokenReceivers += 1
        return .resumeReceiver(receivers.removeFirst())
    }

    @usableFromInline
    package enum ParkAction {
        /// The sender is parked and stays suspended (until receivers take its batch, or `cancel`):
        /// resume `receivers`, which can now take its items.
        case resumeReceivers(Wakeups<Continuation>)
        /// The channel stopped taking items since `send` said `suspendAndPark`: the batch was
        /// dropped; resume the sender at once.
        case resumeSender(Continuation)
    }

    /// Parks the rest of a sender's batch (after `send` said `suspendAndPark`), with the
    /// continuation that resumes the sender.
    @inlinable
    package mutating func park(_ batch: inout [Element], continuation: Continuation) -> ParkAction {
        guard case .open = phase else {
            batch.removeAll(keepingCapacity: true)
            return .resumeSender(continuation)
        }
        precondition(!batch.isEmpty, "a sender parked with nothing to send")
        var storage = spare
        spare = []
        swap(&storage, &batch)
        parked.append(ParkedSender(items: FIFO(adopting: storage), continuation: continuation))
        return .resumeReceivers(wakeReceivers())
    }

    // MARK: receive

    @usableFromInline
    package enum ReceiveAction {
        /// Took `count` items (sequence numbers `first..<first+count`) into the buffer: resume
        /// `waiters` (senders whose batches are now accepted, and a receiver to take what is left)
        /// and return the items.
        case resumeWaitersAndReturnItems(first: Int, count: Int, waiters: Wakeups<Continuation>)
        /// Nothing to take yet: suspend, and `wait`.
        case suspendAndWait
        /// Every producer finished and every item was taken: return the end of the stream.
        case returnEnd
        /// Every item was taken and the stream ended with `failure`: throw it.
        case throwFailure(any Error)
        /// The channel is cancelled: throw `CancellationError`.
        case throwCancellation
    }

    /// Takes up to `limit` (≥ 1) items: from the queue first, then from parked senders' batches.
    /// `comesBack`: the receiver will be back for more as soon as it is done with what it takes
    /// (see `returningReceivers`; it says `receiverReturned` when it is).
    @inlinable
    package mutating func receive(into buffer: inout [Element], limit: Int, comesBack: Bool = false) -> ReceiveAction {
        receiverLooked()
        if case .cancelled = phase { return .throwCancellation }
        precondition(limit >= 1, "a receive must be able to take an item")
        let first = dequeued
        // Under a weight bound a receiver takes at most the bound's weight at once (and at least
        // one item), so what it holds is bounded like the queue.
        var budget = weightBound?.max ?? Int.max
        var taken = queue.take(upTo: within(&budget, queue, limit, first: true), into: &buffer)
        release(taken, of: buffer)
        var wake = Wakeups<Continuation>()
        // Refill the queue from parked senders, then hand parked items straight to this receiver.
        while !parked.isEmpty {
            if taken < limit && queue.isEmpty {
                let n = within(&budget, parked[0].items, limit - taken, first: taken == 0)
                if n == 0 { break }
                taken += parked[0].items.take(upTo: n, into: &buffer)
            } else if self.limit == Int.max || queue.count < self.limit {
                let room = self.limit == Int.max ? Int.max : self.limit - queue.count
                let n = admit(parked[0].items, room: room)
                if n == 0 { break }   // the next parked item outweighs what the queue has room for
                parked[0].items.move(upTo: n, into: &queue)
            } else {
                break
            }
            if parked[0].items.isEmpty {
                var done = parked.removeFirst()
                spare = done.items.releaseStorage()
                wake.append(done.continuation)
            } else if taken >= limit && (self.limit != Int.max && queue.count >= self.limit) {
                break
            }
        }
        if taken > 0 {
            dequeued += taken
            grow(taken: taken)
            if comesBack { returningReceivers += 1 }
            // Items left over and other receivers waiting: pass the word on.
            if !receivers.isEmpty && (!queue.isEmpty || !parked.isEmpty) { wake.append(contentsOf: wakeReceivers()) }
            return .resumeWaitersAndReturnItems(first: first, count: taken, waiters: wake)
        }
        // Nothing was queued and nothing was parked: no sender can have been accepted.
        precondition(wake.isEmpty, "a sender was resumed by a receive that took nothing")
        switch phase {
        case .open:
            return .suspendAndWait
        case .finished(let failure):
            if let failure { return .throwFailure(failure) }
            return .returnEnd
        case .cancelled:
            preconditionFailure("a cancelled channel handed out items")
        }
    }

    @usableFromInline
    package enum WaitAction {
        /// Something changed since `receive` said `suspendAndWait` (items arrived, the stream
        /// ended, or the channel was cancelled): resume the receiver at once; it looks again.
        case resumeReceiver(Continuation)
        /// The receiver is registered and stays suspended until an event returns it.
        case none
    }

    /// `receive` on its common path: items are queued, no sender is parked and no weight bound
    /// applies; takes up to `limit` of them. `nil` (nothing done) otherwise. When items are left
    /// and other receivers wait, returns one to resume (it passes the word on in turn). Compiled
    /// where the element type is concrete.
    ///
    /// `comesBack`: as in `receive`. Such a receiver passes the word on only for items that pile
    /// up (`wakeThreshold`): it takes the rest itself when it comes back.
    @inlinable
    package mutating func receiveQueued(into buffer: inout [Element], limit: Int, comesBack: Bool = false) -> (first: Int, count: Int, wake: Continuation?)? {
        receiverLooked()
        guard weightBound == nil, parked.isEmpty, !queue.isEmpty, !isCancelled else { return nil }
        if comesBack { returningReceivers += 1 }
        return takeQueued(into: &buffer, limit: limit, passOnAt: comesBack ? wakeThreshold : 1)
    }

    /// A receiver that said it `comesBack` is back: see `returningReceivers`.
    @inlinable
    package mutating func receiverReturned() {
        if returningReceivers > 0 { returningReceivers -= 1 }
    }

    /// A receiver that said it `comesBack` will not (its worker ends): if it was the last one
    /// counted on and items wait next to parked receivers, returns one to wake for them.
    @inlinable
    package mutating func receiverLeft() -> Continuation? {
        receiverReturned()
        guard returningReceivers == 0, wokenReceivers == 0, spinningReceivers == 0, !receivers.isEmpty,
              !queue.isEmpty || !parked.isEmpty else { return nil }
        wokenReceivers += 1
        return receivers.removeFirst()
    }

    /// Whether the channel is open with nothing queued or parked: a receiver would wait.
    @inlinable
    package var isOpenAndEmpty: Bool {
        guard case .open = phase else { return false }
        return queue.isEmpty && parked.isEmpty
    }

    /// Takes up to `limit` queued items; if at least `passOnAt` are left and other receivers wait
    /// (none of them already spinning), returns one to resume: it passes the word on in turn.
    @inlinable
    mutating func takeQueued(into buffer: inout [Element], limit: Int, passOnAt: Int) -> (first: Int, count: Int, wake: Continuation?) {
        let first = dequeued
        let taken = queue.take(upTo: Swift.max(1, limit), into: &buffer)
        noteTaken(taken)
        let wake = receivers.isEmpty || queue.count < passOnAt || spinningReceivers > 0 ? nil : receivers.removeFirst()
        if wake != nil { wokenReceivers += 1 }
        return (first, taken, wake)
    }

    @inlinable
    mutating func noteTaken(_ taken: Int) {
        dequeued += taken
        grow(taken: taken)
    }

    /// Registers a suspended receiver (after `receive` said `suspendAndWait`).
    @inlinable
    package mutating func wait(continuation: Continuation) -> WaitAction {
        receiverLooked()
        guard case .open = phase, queue.isEmpty, parked.isEmpty else { return .resumeReceiver(continuation) }
        receivers.append(continuation)
        return .none
    }

    @usableFromInline
    package enum PokeAction {
        /// Resume `receivers`: items are queued for them.
        case resumeReceivers(Wakeups<Continuation>)
        /// No receiver waits (or the channel is cancelled): nothing to do.
        case none
    }

    /// The sender is about to wait for something else: wake receivers for whatever is queued.
    @inlinable
    package mutating func poke() -> PokeAction {
        if isCancelled || receivers.isEmpty { return .none }
        return .resumeReceivers(wakeReceivers())
    }

    // MARK: lifecycle

    @usableFromInline
    package enum FinishAction {
        /// The last producer finished: resume every waiting receiver (they drain what is left and
        /// then see the end, or the failure).
        case resumeReceivers([Continuation])
        /// Nothing to resume: producers remain, no receiver waits, or the channel is cancelled.
        case none
    }

    /// One producer is done, and the stream ends with `failure` (if any) after the items already
    /// sent: receivers drain them and then throw it. The first failure given is kept, also when it
    /// comes after the last producer finished; a cancelled channel ignores it.
    @inlinable
    package mutating func finish(failure: (any Error)? = nil) -> FinishAction {
        switch phase {
        case .open(let producers, let kept):
            precondition(producers >= 1, "an open channel has a producer left")
            if producers > 1 {
                phase = .open(producers: producers - 1, failure: kept ?? failure)
                return .none
            }
            phase = .finished(failure: kept ?? failure)
            let all = takeAllReceivers()
            return all.isEmpty ? .none : .resumeReceivers(all)
        case .finished(let kept):
            // An extra finish: ignored, but a first failure is still kept.
            if kept == nil, let failure { phase = .finished(failure: failure) }
            return .none
        case .cancelled:
            return .none
        }
    }

    @usableFromInline
    package enum CancelAction {
        /// Resume every waiting receiver and every parked sender (their items are dropped).
        case resumeReceiversAndSenders(receivers: [Continuation], senders: [Continuation])
        /// Already cancelled: nothing to do.
        case none
    }

    /// Stops the channel: items are dropped, every waiter is resumed and later calls fail.
    @inlinable
    package mutating func cancel() -> CancelAction {
        if isCancelled { return .none }
        phase = .cancelled
        queue.removeAll()
        queuedWeight = 0
        let senders = parked.map(\.continuation)
        parked.removeAll()
        return .resumeReceiversAndSenders(receivers: takeAllReceivers(), senders: senders)
    }

    @inlinable
    mutating func takeAllReceivers() -> [Continuation] {
        var all: [Continuation] = []
        swap(&all, &receivers)
        return all
    }

    /// Wakes as many receivers as there are items to share (one per waiter, oldest first);
    /// each woken receiver takes what it can when it runs.
    @inlinable
    mutating func wakeReceivers() -> Wakeups<Continuation> {
        var woken = Wakeups<Continuation>()
        if receivers.isEmpty || spinningReceivers > 0 { return woken }
        let available = queue.count + (parked.isEmpty ? 0 : 1)
        // Oldest first; `removeFirst` keeps the array's storage, so nothing is allocated.
        let n = Swift.min(available, receivers.count)
        for _ in 0..<n { woken.append(receivers.removeFirst()) }
        wokenReceivers += n
        return woken
    }

    /// A receiver looked at the channel: one fewer woken receiver is on its way (see
    /// `wokenReceivers`; any receiver counts, so the count can only err low, which wakes more).
    @inlinable
    mutating func receiverLooked() {
        if wokenReceivers > 0 { wokenReceivers -= 1 }
    }
}

/// A bound on a channel's queued items by total weight (bytes, say), with the function that
/// weighs an item. The function is called under the channel's lock: it must be cheap and must not
/// block (`{ $0.count }`).
@usableFromInline
package struct WeightBound<Element>: Sendable {
    @usableFromInline package let max: Int
    @usableFromInline package let weigh: @Sendable (Element) -> Int

    @inlinable
    package init(max: Int, weigh: @escaping @Sendable (Element) -> Int) {
        self.max = max
        self.weigh = weigh
    }
}

/// The continuations an operation must resume. Almost always none or one: the first is stored
/// inline, so the common case allocates nothing (an array would, for every wake-up).
@usableFromInline
package struct Wakeups<Continuation>: Sequence {
    @usableFromInline var first: Continuation?
    @usableFromInline var rest: [Continuation] = []

    @inlinable package init() {}

    @inlinable package var isEmpty: Bool { first == nil }

    @inlinable package mutating func append(_ continuation: Continuation) {
        if first == nil { first = continuation } else { rest.append(continuation) }
    }

    @inlinable
    package mutating func append(contentsOf other: Wakeups<Continuation>) {
        for c in other { append(c) }
    }

    @usableFromInline
    package struct Iterator: IteratorProtocol {
        @usableFromInline var first: Continuation?
        @usableFromInline var rest: IndexingIterator<[Continuation]>

        @inlinable init(first: Continuation?, rest: IndexingIterator<[Continuation]>) {
            self.first = first
            self.rest = rest
        }

        @inlinable package mutating func next() -> Continuation? {
            if let f = first {
                first = nil
                return f
            }
            return rest.next()
        }
    }

    @inlinable package func makeIterator() -> Iterator { Iterator(first: first, rest: rest.makeIterator()) }
}

extension Wakeups: Sendable where Continuation: Sendable {}
extension Wakeups.Iterator: Sendable where Continuation: Sendable {}
