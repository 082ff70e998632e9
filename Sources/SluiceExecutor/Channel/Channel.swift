// The bounded channel that joins stages: a lock around ChannelStateMachine, resuming outside the lock.
import Synchronization

/// A bounded multi-producer, multi-consumer channel moving items in batches.
///
/// The fast path never suspends: a sender that finds room and a receiver that finds items return
/// without awaiting, and a receiver takes every available item (up to its limit) in one critical
/// section. Cancelling the channel (explicitly, or by cancelling a task waiting on it) resumes every
/// waiter; afterwards `send` and `receive` throw `CancellationError`.
/// How often an empty `receive` on a busy channel yields and looks again before it suspends.
/// Suspending means the sender must wake this task (a thread wake-up, microseconds); when batches
/// arrive back to back, a few yields usually find the next one first (W4: about 1.5–2×). A channel
/// counts as busy while receives keep taking full batches, so idle pipelines never spin.
let spinsBeforeWaiting = 16

package final class Channel<Element: Sendable>: Sendable {
    typealias Machine = ChannelStateMachine<Element, UnsafeContinuation<Void, Never>>

    // The lock is Sendable (its value goes in and out as `sending`); the state machine holds only
    // items (Sendable) and continuations (Sendable).
    private let state: Lock<Machine>
    private let ids = Atomic<UInt64>(0)
    /// The last receive took a full batch: the producer is ahead, worth spinning for.
    private let busy = Atomic<Bool>(false)
    /// Set by the producer that ends the stream with a failure (before its `finish`): receivers
    /// drain every item and then throw it instead of seeing the end.
    private let failure = Lock<(any Error)?>(nil)

    /// - Parameters:
    ///   - capacity: items the channel holds (`0` = rendezvous, `Int.max` = unbounded).
    ///   - producers: how many senders will call `finish()`.
    package init(capacity: Int, producers: Int = 1) {
        state = Lock(Machine(capacity: capacity, producers: producers))
    }

    package var capacity: Int { state.withLock { $0.capacity } }
    /// Items currently held (queued or parked), for metrics and tests.
    package var buffered: Int { state.withLock { $0.buffered } }
    package var isCancelled: Bool { state.withLock { $0.phase == .cancelled } }

    /// Sends every item of `batch`, in order, suspending while the channel is full.
    /// On return `batch` is empty (its capacity kept). Pass `urgent: false` when more items will
    /// follow soon: receivers are then woken only once the channel is half full (see `poke()`).
    package func send(_ batch: inout [Element], urgent: Bool = true) async throws {
        if batch.isEmpty { return }
        let action = state.withLock { $0.send(&batch, urgent: urgent) }
        switch action {
        case .done(let wake):
            for c in wake { c.resume() }
            return
        case .cancelled:
            throw CancellationError()
        case .mustPark:
            break
        }
        let id = ids.wrappingAdd(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let (receivers, sender) = state.withLock { $0.park(id: id, items: &batch, continuation: c) }
                for r in receivers { r.resume() }
                sender?.resume()
            }
        } onCancel: {
            self.cancel()
        }
        if state.withLock({ $0.phase == .cancelled }) { throw CancellationError() }
    }

    /// Sends one item.
    package func send(_ element: Element) async throws {
        var batch = [element]
        try await send(&batch)
    }

    /// Moves up to `limit` items onto the end of `buffer` without waiting.
    package func tryReceive(into buffer: inout [Element], limit: Int) throws -> ReceiveResult {
        let action = state.withLock { $0.receive(into: &buffer, limit: limit) }
        switch action {
        case .items(let first, let count, let wake):
            for c in wake { c.resume() }
            return .items(first: first, count: count)
        case .mustWait: return .empty
        case .end:
            if let failure = failure.withLock({ $0 }) { throw failure }
            return .end
        case .cancelled: throw CancellationError()
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
            let id = ids.wrappingAdd(1, ordering: .relaxed).newValue
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                    if let now = state.withLock({ $0.wait(id: id, continuation: c) }) { now.resume() }
                }
            } onCancel: {
                self.cancel()
            }
        }
    }

    /// Wakes receivers for the items queued by non-urgent sends. A producer calls it before it
    /// waits for anything, so that no item waits for the wake threshold.
    package func poke() {
        let wake = state.withLock { $0.poke() }
        for c in wake { c.resume() }
    }

    /// One producer is done, and the stream ends with `failure` after the items already sent: the
    /// receivers drain them and then throw it. The first failure given is kept.
    package func finish(failure error: (any Error)?) {
        if let error { failure.withLock { if $0 == nil { $0 = error } } }
        finish()
    }

    /// One producer is done; after the last one, receivers drain what is left and then see the end.
    package func finish() {
        let wake = state.withLock { $0.finish() }
        for c in wake { c.resume() }
    }

    /// Stops the channel: drops its items and resumes every waiter. Idempotent.
    package func cancel() {
        let (receivers, senders) = state.withLock { $0.cancel() }
        for c in receivers { c.resume() }
        for c in senders { c.resume() }
    }
}

/// The outcome of a non-waiting receive.
package enum ReceiveResult: Equatable, Sendable {
    case items(first: Int, count: Int)
    case empty
    case end
}
