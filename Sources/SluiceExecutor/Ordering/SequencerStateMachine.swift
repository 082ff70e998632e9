// The reorder window's logic as a pure value: which chunk may send next, and who to wake. Each event
// returns the one action its caller must take; the storage, `Sequencer`, holds the lock and acts.

/// Releases the outputs of concurrently processed chunks in input order.
///
/// Workers take *chunks* (consecutive input sequence numbers `start..<end`). A chunk whose start is
/// `next` has the *turn*: its worker sends its outputs itself and then flushes the deposits of the
/// chunks that completed after it. A chunk that completes out of turn is deposited. The window
/// bounds the deposits, in input items: a worker may take new input only while the deposited
/// chunks span fewer than `window` items.
///
/// A chunk that fails *cuts* the sequence at its start: the chunks before it still go out in
/// turn, then the failing chunk's worker sends the outputs it made before the failing item; every
/// later chunk is abandoned (its deposit dropped, its worker woken to stop).
///
/// `Continuation` is whatever resumes a suspended worker (the storage uses
/// `UnsafeContinuation<Void, Never>`; the tests use plain integers). Every continuation handed in
/// (to `waitForWindow` or `waitForTurn`) comes back in exactly one later action, once.
///
/// Lifecycle: `ordering` → `cut` (a chunk failed; an earlier failure moves the cut back);
/// `ordering` or `cut` → `cancelled`. Invariants of every phase: a deposit's start is `> next` (a
/// chunk is deposited only out of turn, and `next` moves only through completed chunks); a turn
/// waiter waits for a start `> next` (the start `next` itself has the turn), at most one per start;
/// no chunk is both deposited and waiting for its turn.
@usableFromInline
package struct SequencerStateMachine<Element, Continuation> {
    @usableFromInline
    package enum Phase: Equatable {
        /// No chunk has failed: every chunk is released in turn. Window waiters wait only while
        /// the window is full (`depositedSpan >= window`), except during a flush: the turn
        /// holder lets one in per deposit it takes, and the rest once it passes the turn on.
        case ordering
        /// The chunk starting at `cutoff` failed (`Int.min`: a failure that is not about one
        /// chunk). Chunks up to it still take their turn; later ones are abandoned. Data: no
        /// deposit and no turn waiter is past `cutoff` (the cut dropped or woke them, and later
        /// ones are refused); no window waiter (the window stays open so that workers find their
        /// chunks abandoned). `next` may be past `cutoff` (a failure not about one chunk, or at a
        /// chunk before the one that holds the turn).
        case cut(cutoff: Int)
        /// The run stopped: nothing is deposited and no one waits; every later wait returns at
        /// once. `cutoff` is the cut made before (`Int.max`: none), still told by `isAbandoned`.
        case cancelled(cutoff: Int)
    }

    @usableFromInline
    package struct Deposit {
        @usableFromInline var end: Int
        @usableFromInline var items: [Element]

        @inlinable init(end: Int, items: [Element]) {
            self.end = end
            self.items = items
        }
    }

    /// Input items the deposited chunks may span before workers wait.
    @usableFromInline package let window: Int
    @usableFromInline package var phase: Phase = .ordering
    /// Input items spanned by the deposited chunks (`end - start`, summed).
    @usableFromInline package var depositedSpan = 0
    /// The start of the chunk that has the turn.
    @usableFromInline package var next = 0
    @usableFromInline var deposits: [Int: Deposit] = [:]
    @usableFromInline var turnWaiters: [Int: Continuation] = [:]
    @usableFromInline var windowWaiters: [Continuation] = []

    @inlinable
    package init(window: Int) {
        precondition(window >= 1)
        self.window = window
    }

    @inlinable
    package var depositCount: Int { deposits.count }
    @inlinable
    package var depositedItems: Int { deposits.values.reduce(0) { $0 + $1.items.count } }
    /// Workers waiting for the window to open, and for their chunk's turn.
    @inlinable
    package var windowWaiterCount: Int { windowWaiters.count }
    @inlinable
    package var turnWaiterCount: Int { turnWaiters.count }

    /// The start of the earliest failing chunk (`Int.max`: none).
    @inlinable
    package var cutoff: Int {
        switch phase {
        case .ordering: return Int.max
        case .cut(let cutoff), .cancelled(let cutoff): return cutoff
        }
    }

    @inlinable
    package var isCancelled: Bool {
        if case .cancelled = phase { return true }
        return false
    }

    /// May a worker take new input now? If not, it waits (`waitForWindow`).
    @inlinable
    package var windowIsOpen: Bool {
        switch phase {
        case .ordering: return depositedSpan < window
        case .cut, .cancelled: return true
        }
    }

    /// Is chunk `start` past a failure (its outputs will never be sent)?
    @inlinable
    package func isAbandoned(start: Int) -> Bool { start > cutoff }

    /// Does chunk `start` have the turn? (It keeps it until it advances past itself.)
    @inlinable
    package func hasTurn(start: Int) -> Bool { start == next && start <= cutoff }

    // MARK: waiting

    @usableFromInline
    package enum EnterWindowAction: Equatable {
        /// The window has room: take the next chunk.
        case enter
        /// The window is full: suspend, and `waitForWindow`.
        case suspend
        /// The run stopped: throw `CancellationError`.
        case throwCancellation
    }

    /// A worker is about to take new input.
    @inlinable
    package func enterWindow() -> EnterWindowAction {
        switch phase {
        case .ordering: return depositedSpan < window ? .enter : .suspend
        case .cut: return .enter
        case .cancelled: return .throwCancellation
        }
    }

    @usableFromInline
    package enum WaitAction {
        /// No need to wait after all (the window opened, the turn came, the chunk is abandoned or
        /// the run stopped): resume the worker at once.
        case resumeWorker(Continuation)
        /// The worker is registered and stays suspended until an event returns it.
        case none
    }

    /// Registers a worker waiting for the window to open (after `enterWindow` said `suspend`).
    @inlinable
    package mutating func waitForWindow(_ continuation: Continuation) -> WaitAction {
        if windowIsOpen { return .resumeWorker(continuation) }
        windowWaiters.append(continuation)
        return .none
    }

    /// Registers the worker of chunk `start` waiting for its turn (mid-chunk, outbox full, or to
    /// send the outputs before a failure).
    @inlinable
    package mutating func waitForTurn(start: Int, _ continuation: Continuation) -> WaitAction {
        if isCancelled || start > cutoff || start == next { return .resumeWorker(continuation) }
        precondition(start > next, "chunk \(start) waits for its turn, but the turn already passed it (next: \(next))")
        if turnWaiters.updateValue(continuation, forKey: start) != nil {
            preconditionFailure("two workers wait for the turn of chunk \(start)")
        }
        return .none
    }

    @usableFromInline
    package enum WaitEndedAction: Equatable {
        /// Carry on.
        case proceed
        /// The run stopped, or the chunk is abandoned: throw `CancellationError`.
        case throwCancellation
    }

    /// A worker resumed from `waitForWindow`.
    @inlinable
    package func windowWaitEnded() -> WaitEndedAction {
        isCancelled ? .throwCancellation : .proceed
    }

    /// The worker of chunk `start` resumed from `waitForTurn`.
    @inlinable
    package func turnWaitEnded(start: Int) -> WaitEndedAction {
        isCancelled || isAbandoned(start: start) ? .throwCancellation : .proceed
    }

    // MARK: completing chunks

    @usableFromInline
    package enum CompleteAction: Equatable {
        /// The chunk has the turn: send its items, then `advance(to: end)`.
        case sendItemsAndAdvance
        /// Nothing to do: the items were deposited (the turn holder will send them), or dropped
        /// (the chunk is abandoned, or the run stopped).
        case none
    }

    /// Chunk `start..<end` is done with `items` left to send, and its worker does not hold the
    /// turn yet. Unless the chunk has the turn, its items are taken (deposited or dropped).
    @inlinable
    package mutating func complete(start: Int, end: Int, items: inout [Element]) -> CompleteAction {
        if isCancelled || start > cutoff {
            items.removeAll()
            return .none
        }
        if start == next { return .sendItemsAndAdvance }
        precondition(start > next, "chunk \(start) completed after the turn passed it (next: \(next))")
        if deposits.updateValue(Deposit(end: end, items: items), forKey: start) != nil {
            preconditionFailure("chunk \(start) completed twice")
        }
        depositedSpan += end - start
        items = []
        return .none
    }

    @usableFromInline
    package enum AdvanceAction {
        /// The next chunk's outputs were deposited, so the turn stays with the caller: resume
        /// `windowWaiter` (if any: the deposit left the window), send `items` (chunk `…<end`'s),
        /// then `advance(to: end)`.
        case sendDepositAndAdvance(items: [Element], end: Int, windowWaiter: Continuation?)
        /// The turn passed on: resume `waiters` (the worker of the chunk that now has the turn,
        /// if it waits for it, and window waiters when the window has room) and return.
        case resumeWaitersAndReturn([Continuation])
    }

    /// The turn holder has sent everything before `end`.
    @inlinable
    package mutating func advance(to end: Int) -> AdvanceAction {
        next = end
        if let d = deposits.removeValue(forKey: end) {
            depositedSpan -= d.end - end
            let open = depositedSpan < window && !windowWaiters.isEmpty
            return .sendDepositAndAdvance(items: d.items, end: d.end, windowWaiter: open ? windowWaiters.removeFirst() : nil)
        }
        var wake: [Continuation] = []
        if let w = turnWaiters.removeValue(forKey: end) { wake.append(w) }
        // The window may have reopened without a flush (a deposit was flushed earlier by another
        // turn holder): let waiters in while there is room.
        if depositedSpan < window {
            wake.append(contentsOf: windowWaiters)
            windowWaiters.removeAll()
        }
        return .resumeWaitersAndReturn(wake)
    }

    // MARK: failure and cancellation

    @usableFromInline
    package enum CutAction {
        /// Resume these workers: they find their chunk abandoned, or the window open.
        case resumeWorkers([Continuation])
        /// Nothing to resume (no one waits, the cut is not the earliest, or the run stopped).
        case none
    }

    /// The chunk starting at `start` failed: abandon every later chunk. Only the earliest cut
    /// counts.
    @inlinable
    package mutating func cut(at start: Int) -> CutAction {
        guard !isCancelled, start < cutoff else { return .none }
        phase = .cut(cutoff: start)
        deposits = deposits.filter { $0.key < start }
        depositedSpan = deposits.reduce(0) { $0 + $1.value.end - $1.key }
        var wake = windowWaiters
        windowWaiters.removeAll()
        for (waiting, c) in turnWaiters where waiting > start {
            wake.append(c)
            turnWaiters[waiting] = nil
        }
        return wake.isEmpty ? .none : .resumeWorkers(wake)
    }

    @usableFromInline
    package enum CancelAction {
        /// Resume every waiting worker (they throw `CancellationError`).
        case resumeWorkers([Continuation])
        /// No one waits: nothing to do.
        case none
    }

    /// Stops the sequencer: deposits are dropped, every waiter is resumed and later waits return
    /// at once. Idempotent.
    @inlinable
    package mutating func cancel() -> CancelAction {
        phase = .cancelled(cutoff: cutoff)
        deposits.removeAll()
        depositedSpan = 0
        let all = Array(turnWaiters.values) + windowWaiters
        turnWaiters.removeAll()
        windowWaiters.removeAll()
        return all.isEmpty ? .none : .resumeWorkers(all)
    }
}
