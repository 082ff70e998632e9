// The bounded channel that joins stages: a lock around ChannelStateMachine, resuming outside the lock.
import Synchronization

/// How often an empty `receive` on a busy channel yields and looks again before it suspends.
/// Suspending means the sender must wake this task (a thread wake-up, microseconds); when batches
/// arrive back to back, a few yields usually find the next one first (W4: about 1.5–2×). A channel
/// counts as busy while receives keep taking full batches, so idle pipelines never spin.
let spinsBeforeWaiting = 16

/// A bounded multi-producer, multi-consumer channel moving items in batches.
///
/// The fast path never suspends: a sender that finds room and a receiver that finds items return
/// without awaiting, and a receiver takes every available item (up to its limit) in one critical
/// section. Cancelling the channel (explicitly, or by cancelling a task waiting on it) resumes every
/// waiter; afterwards `send` and `receive` throw `CancellationError`.
///
/// Storage for `ChannelStateMachine`: each operation takes the lock, asks the machine what to do,
/// leaves the lock, and then does it, so continuations are resumed outside the lock.
package final class Channel<Element: Sendable>: Sendable {
    typealias Machine = ChannelStateMachine<Element, UnsafeContinuation<Void, Never>>

    // The lock is Sendable (its value goes in and out as `sending`); the state machine holds only
    // items (Sendable), continuations (Sendable) and the failure that ends the stream.
    private let state: Lock<Machine>
    /// The last receive took a full batch: the producer is ahead, worth spinning for.
    private let busy = Atomic<Bool>(false)
    /// The machine's `limit` (the capacity in force), mirrored for producers sizing their batches.
    private let currentLimit: Atomic<Int>

    /// Whether cancelling a task suspended in `send` cancels the whole channel.
    private let senderCancellationCancels: Bool

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
        currentLimit = Atomic(machine.limit)
        state = Lock(machine)
        self.senderCancellationCancels = senderCancellationCancels
    }

    /// The capacity in force now (see `startingLimit`): a producer that reads ahead of demand
    /// (from a source, or into an outbox) reads no more than this before it hands over.
    package var sendLimit: Int { currentLimit.load(ordering: .relaxed) }

    package var capacity: Int { state.withLock { $0.capacity } }
    /// Items currently held (queued or parked), for metrics and tests.
    package var buffered: Int { state.withLock { $0.buffered } }
    package var isCancelled: Bool { state.withLock { $0.isCancelled } }
    /// The queued items' total weight, under a weight bound (`0` without one).
    package var queuedWeight: Int { state.withLock { $0.queuedWeight } }

    /// Sends every item of `batch`, in order, suspending while the channel is full.
    /// On return `batch` is empty (its capacity kept). Pass `urgent: false` when more items will
    /// follow soon: receivers are then woken only once the channel is half full (see `poke()`).
    package func send(_ batch: inout [Element], urgent: Bool = true) async throws {
        if batch.isEmpty { return }
        switch state.withLock({ $0.send(&batch, urgent: urgent) }) {
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
                switch state.withLock({ $0.park(&batch, continuation: c) }) {
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

    /// Sends one item.
    package func send(_ element: Element) async throws {
        var batch = [element]
        try await send(&batch)
    }

    /// Moves up to `limit` (≥ 1) items onto the end of `buffer` without waiting. Throws the
    /// stream's failure once every item before it was taken.
    package func tryReceive(into buffer: inout [Element], limit: Int) throws -> ReceiveResult {
        let (action, inForce) = state.withLock { machine in (machine.receive(into: &buffer, limit: limit), machine.limit) }
        switch action {
        case .resumeWaitersAndReturnItems(let first, let count, let waiters):
            if inForce != currentLimit.load(ordering: .relaxed) { currentLimit.store(inForce, ordering: .relaxed) }
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

    /// Moves up to `limit` (≥ 1) items onto the end of `buffer`, suspending until at least one is
    /// available. Returns the first item's sequence number, or `nil` at the end of the stream.
    package func receive(into buffer: inout [Element], limit: Int) async throws -> Int? {
        var spins = 0
        while true {
            switch try tryReceive(into: &buffer, limit: limit) {
            case .items(let first, let count):
                busy.store(count == limit, ordering: .relaxed)
                return first
            case .end: return nil
            case .empty: break
            }
            if spins < spinsBeforeWaiting && busy.load(ordering: .relaxed) {
                spins += 1
                await Task.yield()
                continue
            }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                    switch state.withLock({ $0.wait(continuation: c) }) {
                    case .resumeReceiver(let receiver): receiver.resume()
                    case .none: break
                    }
                }
            } onCancel: {
                self.cancel()
            }
        }
    }

    /// Wakes receivers for the items queued by non-urgent sends. A producer calls it before it
    /// waits for anything, so that no item waits for the wake threshold.
    package func poke() {
        switch state.withLock({ $0.poke() }) {
        case .resumeReceivers(let receivers):
            for c in receivers { c.resume() }
        case .none:
            break
        }
    }

    /// One producer is done, and the stream ends with `failure` after the items already sent: the
    /// receivers drain them and then throw it. The first failure given is kept.
    package func finish(failure: (any Error)?) {
        switch state.withLock({ $0.finish(failure: failure) }) {
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
    package func cancel() {
        switch state.withLock({ $0.cancel() }) {
        case .resumeReceiversAndSenders(let receivers, let senders):
            for c in receivers { c.resume() }
            for c in senders { c.resume() }
        case .none:
            break
        }
    }
}

/// The outcome of a non-waiting receive.
package enum ReceiveResult: Equatable, Sendable {
    case items(first: Int, count: Int)
    case empty
    case end
}
