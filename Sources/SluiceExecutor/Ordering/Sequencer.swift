// The reorder window's storage: a lock around SequencerStateMachine, sending in turn. Each operation
// takes the lock, asks the machine what to do, leaves the lock, and then does it.

/// Keeps the outputs of an ordered multi-worker stage in input order (see `SequencerStateMachine`).
///
/// Inlinable, so that a stage's constructor can compile the per-chunk operations for its output
/// type (`SendPort.enterWindow`, `SendPort.complete`): the executor's own calls run the generic
/// code, with runtime metadata look-ups for the machine, its actions and its dictionaries.
@usableFromInline
package final class Sequencer<Element: Sendable>: Sendable {
    @usableFromInline typealias Machine = SequencerStateMachine<Element, UnsafeContinuation<Void, Never>>
    @usableFromInline let state: Lock<Machine>

    /// Whether cancelling a waiting task cancels the sequencer.
    @usableFromInline let waiterCancellationCancels: Bool

    /// - Parameters:
    ///   - window: input items the completed chunks held back may span.
    ///   - waiterCancellationCancels: `true` (the default): a waiter's cancellation cancels the
    ///     sequencer. A run passes `false`: a worker is cancelled when its chunk is past a failure
    ///     (the cut wakes it), and the chunks before the failure must still go out in turn; the run
    ///     cancels its sequencers itself when it stops.
    package init(window: Int, waiterCancellationCancels: Bool = true) {
        state = Lock(Machine(window: window))
        self.waiterCancellationCancels = waiterCancellationCancels
    }

    /// Suspends until the continuation `register` hands to the machine is resumed. The task's
    /// cancellation cancels the sequencer (which resumes every waiter), unless the run said not to.
    @inlinable
    func suspend(_ register: (inout Machine, UnsafeContinuation<Void, Never>) -> Machine.WaitAction) async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                switch state.withLock({ register(&$0, c) }) {
                case .resumeWorker(let worker): worker.resume()
                case .none: break
                }
            }
        } onCancel: {
            if self.waiterCancellationCancels { self.cancel() }
        }
    }

    /// Waits until the window has room for another chunk.
    @inlinable
    package func enterWindow() async throws {
        switch state.withLock({ $0.enterWindow() }) {
        case .enter: return
        case .throwCancellation: throw CancellationError()
        case .suspend: break
        }
        await suspend { $0.waitForWindow($1) }
        switch state.withLock({ $0.windowWaitEnded() }) {
        case .proceed: return
        case .throwCancellation: throw CancellationError()
        }
    }

    /// Does chunk `start` have the turn now? (It keeps it until its `complete`.)
    @inlinable
    package func hasTurn(start: Int) -> Bool {
        state.withLock { $0.hasTurn(start: start) }
    }

    /// Waits until chunk `start` has the turn. Throws `CancellationError` if the chunk is
    /// abandoned (an earlier chunk failed) or the run stopped.
    @inlinable
    package func waitForTurn(start: Int) async throws {
        if hasTurn(start: start) { return }
        await suspend { $0.waitForTurn(start: start, $1) }
        switch state.withLock({ $0.turnWaitEnded(start: start) }) {
        case .proceed: return
        case .throwCancellation: throw CancellationError()
        }
    }

    /// Is chunk `start` past a failure?
    package func isAbandoned(start: Int) -> Bool {
        state.withLock { $0.isAbandoned(start: start) }
    }

    /// The chunk starting at `start` failed: abandon the later ones (see `SequencerStateMachine`).
    package func cut(at start: Int) {
        switch state.withLock({ $0.cut(at: start) }) {
        case .resumeWorkers(let workers): for c in workers { c.resume() }
        case .none: break
        }
    }

    /// Chunk `start..<end` is complete. Sends `items` to `output` if it is its turn (then flushes the
    /// deposits that follow), otherwise deposits them. `hasTurn`: the caller already waited for it.
    @inlinable
    package func complete(start: Int, end: Int, items: inout [Element], hasTurn: Bool, output: Channel<Element>) async throws {
        if !hasTurn {
            switch state.withLock({ $0.complete(start: start, end: end, items: &items) }) {
            case .sendItemsAndAdvance: break
            case .none: return
            }
        }
        try await output.send(&items)
        var cursor = end
        while true {
            switch state.withLock({ $0.advance(to: cursor) }) {
            case .sendDepositAndAdvance(var deposit, let depositEnd, let windowWaiter):
                windowWaiter?.resume()
                try await output.send(&deposit)
                cursor = depositEnd
            case .resumeWaitersAndReturn(let waiters):
                for c in waiters { c.resume() }
                return
            }
        }
    }

    /// Stops the sequencer: drops the deposits and resumes every waiter. Idempotent.
    @inlinable
    package func cancel() {
        switch state.withLock({ $0.cancel() }) {
        case .resumeWorkers(let workers): for c in workers { c.resume() }
        case .none: break
        }
    }
}
