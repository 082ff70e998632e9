// The bounded channel that joins stages: a lock around ChannelStateMachine, resuming outside the lock.
import Synchronization

/// How often an empty `receive` on a busy channel yields and looks again before it suspends.
/// Suspending means the sender must wake this task (a thread wake-up, microseconds); when batches
/// arrive back to back, a few yields usually find the next one first (W4: about 1.5–2×). A channel
/// counts as busy while receives keep taking full batches, so idle pipelines never spin.
@usableFromInline let spinsBeforeWaiting = 16

/// A bounded multi-producer, multi-consumer channel moving items in batches.
///
/// The fast path never suspends: a sender that finds room and a receiver that finds items return
/// without awaiting, and a receiver takes every available item (up to its limit) in one critical
/// section. Cancelling the channel (explicitly, or by cancelling a task waiting on it) resumes every
/// waiter; afterwards `send` and `receive` throw `CancellationError`.
///
/// Storage for `ChannelStateMachine`: each operation takes the lock, asks the machine what to do,
/// leaves the lock, and then does it, so continuations are resumed outside the lock.
@usableFromInline
package final class Channel<Element: Sendable>: Sendable {
    @usableFromInline typealias Machine = ChannelStateMachine<Element, UnsafeContinuation<Void, Never>>

    // The lock is Sendable (its value goes in and out as `sending`); the state machine holds only
    // items (Sendable), continuations (Sendable) and the failure that ends the stream.
    @usableFromInline let state: Lock<Machine>
    /// The last receive took a full batch: the producer is ahead, worth spinning for.
    @usableFromInline let busy = Atomic<Bool>(false)
    /// What producers and receivers read without the lock: the capacity in force, whether a
    /// receiver waits, how many items are queued. Updated under the lock after every operation.
    @usableFromInline package let hints = ChannelHints()

    /// Updates the hints read without the lock; called under it after every operation.
    @inlinable func mirror(_ machine: borrowing Machine) {
        hints.queued.store(machine.queuedCount, ordering: .relaxed)
    }

    /// Whether cancelling a task suspended in `send` cancels the whole channel.
    @usableFromInline let senderCancellationCancels: Bool

    /// - Parameters:
    ///   - capacity: items the channel holds (`0` = rendezvous, `Int.max` = unbounded).
    ///   - producers: how many senders will call `finish()`.
    ///   - senderCancellationCancels: `true` (the default): a sender's cancellation cancels the
    ///     channel, so no waiter is left behind. A run passes `false`: a worker is cancelled when
    ///     its work is past a failure, but what it sends before it leaves (the outputs it
    ///     completed) must still reach the next stage, followed by the failure; the run cancels
    ///     its channels itself when it stops.
    ///   - startingLimit: the capacity in force at first; it doubles each time a receive takes
    ///     half of it or more, up to `capacity` (*slow start*). `nil`: all of `capacity` at once.
    ///   - weightBound: also bound the queued items' total weight (`nil`: by count only).
    package init(capacity: Int, producers: Int = 1, senderCancellationCancels: Bool = true, startingLimit: Int? = nil, weightBound: WeightBound<Element>? = nil) {
        let machine = Machine(capacity: capacity, producers: producers, startingLimit: startingLimit, weightBound: weightBound)
        hints.limit.store(machine.limit, ordering: .relaxed)
        state = Lock(machine)
        self.senderCancellationCancels = senderCancellationCancels
    }

    /// The capacity in force now (see `startingLimit`): a producer that reads ahead of demand
    /// (from a source, or into an outbox) reads no more than this before it hands over.
    package var sendLimit: Int { hints.sendLimit }

    package var capacity: Int { state.withLock { $0.capacity } }
    /// Items currently held (queued or parked), for metrics and tests.
    package var buffered: Int { state.withLock { $0.buffered } }
    @inlinable package var isCancelled: Bool { state.withLock { $0.isCancelled } }
    /// The queued items' total weight, under a weight bound (`0` without one).
    package var queuedWeight: Int { state.withLock { $0.queuedWeight } }

    /// Sends every item of `batch`, in order, suspending while the channel is full.
    /// On return `batch` is empty (its capacity kept). Pass `urgent: false` when more items will
    /// follow soon: receivers are then woken only once the channel is half full (see `poke()`).
    ///
    /// The common case (the channel is open with room for the whole batch, no sender parked ahead,
    /// no weight bound) runs where the caller is compiled: called with a concrete element type
    /// (a stage's `SendPort`, a terminal), the lock is held for an append, with no generic code.
    @inlinable
    package func send(_ batch: inout [Element], urgent: Bool = true) async throws {
        if batch.isEmpty { return }
        let wakeups: Wakeups<UnsafeContinuation<Void, Never>>? = state.withLock { machine in
            guard let wakeups = machine.sendQueued(&batch, urgent: urgent) else { return nil }
            mirror(machine)
            return wakeups
        }
        guard let wakeups else { return try await sendGenerically(&batch, urgent: urgent) }
        for c in wakeups { c.resume() }
    }

    /// `send`, for every case.
    @inlinable
    func sendGenerically(_ batch: inout [Element], urgent: Bool) async throws {
        switch state.withLock({ machine in
            let action = machine.send(&batch, urgent: urgent)
            mirror(machine)
            return action
        }) {
        case .resumeReceivers(let receivers):
            for c in receivers { c.resume() }
            return
        case .throwCancellation:
            throw CancellationError()
        case .suspendAndPark:
            break
        }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                switch state.withLock({ machine in
                    let action = machine.park(&batch, continuation: c)
                    mirror(machine)
                    return action
                }) {
                case .resumeReceivers(let receivers):
                    for r in receivers { r.resume() }
                case .resumeSender(let sender):
                    sender.resume()
                }
            }
        } onCancel: {
            if self.senderCancellationCancels { self.cancel() }
        }
        if isCancelled { throw CancellationError() }
    }

    /// Receivers suspended waiting for items, for tests.
    package var waitingReceivers: Int { state.withLock { $0.waitingReceivers } }

    /// How many items were queued at the last operation on the channel (a hint: it may be stale
    /// by one operation): the workers of a parallel async stage each take a fair share of it.
    package var queuedHint: Int { hints.queuedCount }

    /// Sends one item, on the common path (room in the channel) without generic code: called
    /// from code compiled for the element type (an asynchronous stage's kernel), it runs
    /// specialized, a lock and an append. Otherwise as `send(_:)`.
    @inlinable @inline(__always)
    package func sendOne(_ element: Element) async throws {
        if trySendOne(element) { return }
        var batch = [element]
        try await send(&batch)
    }

    /// `sendOne`'s common path, which never waits: `false` if the item must go through `send`.
    /// (Synchronous, so a caller that keeps the channel in a `let` calls it without retaining
    /// the channel around a suspension point: the workers of a parallel stage share it, and the
    /// reference count's cache line moved between cores on every item.)
    @inlinable @inline(__always)
    package func trySendOne(_ element: Element) -> Bool {
        let action = state.withLock { machine in
            let action = machine.sendOne(element)
            mirror(machine)
            return action
        }
        switch action {
        case .queued:
            return true
        case .resumeReceiver(let receiver):
            receiver.resume()
            return true
        case .useSend:
            return false
        }
    }

    /// Sends one item.
    package func send(_ element: Element) async throws {
        var batch = [element]
        try await send(&batch)
    }

    /// Moves up to `limit` (≥ 1) items onto the end of `buffer` without waiting. Throws the
    /// stream's failure once every item before it was taken.
    /// `comesBack`: see `tryReceiveSpecialized`.
    @inlinable
    package func tryReceive(into buffer: inout [Element], limit: Int, comesBack: Bool = false) throws -> ReceiveResult {
        let (action, inForce) = state.withLock { machine in
            let action = machine.receive(into: &buffer, limit: limit, comesBack: comesBack)
            mirror(machine)
            return (action, machine.limit)
        }
        switch action {
        case .resumeWaitersAndReturnItems(let first, let count, let waiters):
            if inForce != hints.limit.load(ordering: .relaxed) { hints.limit.store(inForce, ordering: .relaxed) }
            for c in waiters { c.resume() }
            return .items(first: first, count: count)
        case .suspendAndWait:
            return .empty
        case .returnEnd:
            return .end
        case .throwFailure(let failure):
            throw failure
        case .throwCancellation:
            throw CancellationError()
        }
    }

    /// `tryReceive`, with its common path (items queued, nothing else going on) compiled where
    /// the element type is concrete: called from an asynchronous stage's kernel, the lock is held
    /// for a few instructions rather than for generic code (a long critical section made the
    /// producer's `sendOne` wait on the lock in the kernel, W8).
    ///
    /// For a worker of a parallel stage whose items are quick: `comesBack`, it will receive again
    /// as soon as it is done with the items it takes (one-item sends wake no other receiver for
    /// them meanwhile, `ChannelStateMachine.returningReceivers`); `returning`, it said so last
    /// time and this is its return.
    @inlinable
    package func tryReceiveSpecialized(into buffer: inout [Element], limit: Int, returning: Bool = false, comesBack: Bool = false) throws -> ReceiveResult {
        // `count == 0`: the channel is open and empty (the receiver waits).
        let taken: (first: Int, count: Int, limit: Int, wake: UnsafeContinuation<Void, Never>?)? = state.withLock { machine in
            if returning { machine.receiverReturned() }
            if machine.isOpenAndEmpty { return (0, 0, 0, nil) }
            guard let (first, count, wake) = machine.receiveQueued(into: &buffer, limit: limit, comesBack: comesBack) else { return nil }
            mirror(machine)
            return (first, count, machine.limit, wake)
        }
        guard let taken else { return try tryReceive(into: &buffer, limit: limit, comesBack: comesBack) }
        if taken.count == 0 { return .empty }
        if taken.limit != hints.limit.load(ordering: .relaxed) { hints.limit.store(taken.limit, ordering: .relaxed) }
        taken.wake?.resume()
        return .items(first: taken.first, count: taken.count)
    }

    /// Suspends until items arrive, the stream ends or the channel is cancelled (the caller looks
    /// again). Cancelling the waiting task cancels the channel.
    @inlinable
    func waitForItems() async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                switch state.withLock({ machine in
                    let action = machine.wait(continuation: c)
                    mirror(machine)
                    return action
                }) {
                case .resumeReceiver(let receiver): receiver.resume()
                case .none: break
                }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Moves up to `limit` (≥ 1) items onto the end of `buffer`, suspending until at least one is
    /// available. Returns the first item's sequence number, or `nil` at the end of the stream.
    ///
    /// Taking queued items, and waiting on an open empty channel, run where the caller is
    /// compiled (see `tryReceiveSpecialized`); anything else goes through the generic code.
    ///
    /// `returning`, `comesBack`: as in `tryReceiveSpecialized`.
    @inlinable
    package func receive(into buffer: inout [Element], limit: Int, returning: Bool = false, comesBack: Bool = false) async throws -> Int? {
        var spins = 0
        var returning = returning
        while true {
            defer { returning = false }
            switch try tryReceiveSpecialized(into: &buffer, limit: limit, returning: returning, comesBack: comesBack) {
            case .items(let first, let count):
                busy.store(count == limit, ordering: .relaxed)
                return first
            case .end: return nil
            case .empty: break
            }
            // One receiver at a time yields (the workers of a parallel stage share a channel):
            // the others wait, since the yielding one takes what arrives meanwhile.
            if spins < spinsBeforeWaiting && busy.load(ordering: .relaxed) && state.withLock({ machine in
                guard machine.spinningReceivers == 0 else { return false }
                machine.spinningReceivers = 1
                return true
            }) {
                // Yield until the hint shows items, without taking the lock the producer needs.
                // Meanwhile senders wake no parked receiver: this one takes their items.
                repeat {
                    spins += 1
                    await Task.yield()
                } while spins < spinsBeforeWaiting && hints.queuedCount == 0
                state.withLock { $0.spinningReceivers -= 1 }
                continue
            }
            await waitForItems()
        }
    }

    /// A receiver that said it `comesBack` will not (its worker ends): wakes a waiting receiver
    /// for what is queued if nobody else was coming for it.
    package func receiverLeft() {
        state.withLock { machine in
            let wake = machine.receiverLeft()
            mirror(machine)
            return wake
        }?.resume()
    }

    /// Wakes receivers for the items queued by non-urgent sends. A producer calls it before it
    /// waits for anything, so that no item waits for the wake threshold.
    @inlinable
    package func poke() {
        switch state.withLock({ machine in
            let action = machine.poke()
            mirror(machine)
            return action
        }) {
        case .resumeReceivers(let receivers):
            for c in receivers { c.resume() }
        case .none:
            break
        }
    }

    /// One producer is done, and the stream ends with `failure` after the items already sent: the
    /// receivers drain them and then throw it. The first failure given is kept.
    package func finish(failure: (any Error)?) {
        switch state.withLock({ machine in
            let action = machine.finish(failure: failure)
            mirror(machine)
            return action
        }) {
        case .resumeReceivers(let receivers):
            for c in receivers { c.resume() }
        case .none:
            break
        }
    }

    /// One producer is done; after the last one, receivers drain what is left and then see the end.
    package func finish() {
        finish(failure: nil)
    }

    /// Stops the channel: drops its items and resumes every waiter. Idempotent.
    @usableFromInline
    package func cancel() {
        switch state.withLock({ machine in
            let action = machine.cancel()
            mirror(machine)
            return action
        }) {
        case .resumeReceiversAndSenders(let receivers, let senders):
            for c in receivers { c.resume() }
            for c in senders { c.resume() }
        case .none:
            break
        }
    }
}

/// A channel's state as producers and workers see it without taking its lock: each value is
/// stored under the lock after every operation and may be stale by the time it is read.
@usableFromInline
package final class ChannelHints: Sendable {
    /// The channel's `limit` (the capacity in force, see `startingLimit`).
    @usableFromInline let limit = Atomic<Int>(1)
    @usableFromInline let queued = Atomic<Int>(0)

    init() {}

    /// The capacity in force: a producer reading ahead of demand reads no more than this.
    package var sendLimit: Int { limit.load(ordering: .relaxed) }
    /// How many items were queued at the last operation (parked senders' batches not counted).
    @inlinable package var queuedCount: Int { queued.load(ordering: .relaxed) }
}

/// The outcome of a non-waiting receive.
@usableFromInline
package enum ReceiveResult: Equatable, Sendable {
    case items(first: Int, count: Int)
    case empty
    case end
}
