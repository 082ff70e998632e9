// The reorder window's logic as a pure value: which chunk may send next, and who to wake.

/// Releases the outputs of concurrently processed chunks in input order.
///
/// Workers take *chunks* (consecutive input sequence numbers `start..<end`). A chunk whose start is
/// `next` has the *turn*: its worker sends its outputs itself and then flushes the deposits of the
/// chunks that completed after it. A chunk that completes out of turn is deposited. The window
/// bounds the deposits: a worker may take new input only while fewer than `window` chunks wait.
///
/// A chunk that fails *cuts* the sequence at its start: the chunks before it still go out in
/// turn, then the failing chunk's worker sends the outputs it made before the failing item; every
/// later chunk is abandoned (its deposit dropped, its worker woken to stop).
///
/// Invariants: `next <= cutoff`; every deposit's start is in `next + 1 ... cutoff - 1`; a turn
/// waiter waits for a start `> next`; once cancelled, nothing is deposited or waited for.
package struct SequencerStateMachine<Element, Continuation> {
    package struct Deposit {
        var end: Int
        var items: [Element]
    }

    package let window: Int
    package private(set) var next = 0
    package private(set) var cancelled = false
    /// The start of the earliest failing chunk (`Int.max`: none).
    package private(set) var cutoff = Int.max
    private var deposits: [Int: Deposit] = [:]
    private var turnWaiters: [Int: Continuation] = [:]
    private var windowWaiters: [Continuation] = []

    package init(window: Int) {
        precondition(window >= 1)
        self.window = window
    }

    package var depositCount: Int { deposits.count }
    package var depositedItems: Int { deposits.values.reduce(0) { $0 + $1.items.count } }

    /// May a worker take new input now? If not, it waits (call `waitForWindow`).
    package var windowIsOpen: Bool { cancelled || cutoff != Int.max || deposits.count < window }

    /// Is chunk `start` past a failure (its outputs will never be sent)?
    package func isAbandoned(start: Int) -> Bool { start > cutoff }

    package mutating func waitForWindow(_ c: Continuation) -> Continuation? {
        if windowIsOpen { return c }
        windowWaiters.append(c)
        return nil
    }

    /// Is it chunk `start`'s turn? If not, the worker waits for it (mid-chunk, outbox full).
    package mutating func waitForTurn(start: Int, _ c: Continuation) -> Continuation? {
        if cancelled || start > cutoff || start == next { return c }
        precondition(turnWaiters[start] == nil)
        turnWaiters[start] = c
        return nil
    }

    package func hasTurn(start: Int) -> Bool { start == next && start <= cutoff }

    /// Chunk `start..<end` is done with `items` left to send. Returns `true` if it has the turn
    /// (the caller sends `items`, then calls `advance`); otherwise the items are deposited.
    package mutating func complete(start: Int, end: Int, items: inout [Element]) -> Bool {
        if start > cutoff || cancelled {
            items.removeAll()
            return false
        }
        if start == next { return true }
        deposits[start] = Deposit(end: end, items: items)
        items = []
        return false
    }

    package enum Advance {
        /// Still your turn: send these items (they are chunk `…<end`'s), then advance to `end`.
        case flush(items: [Element], end: Int, wake: Continuation?)
        /// Turn passed on; resume these (a mid-chunk waiter and/or a window waiter).
        case released(wake: [Continuation])
    }

    /// The turn holder has sent everything before `end`.
    package mutating func advance(to end: Int) -> Advance {
        next = end
        if let d = deposits.removeValue(forKey: end) {
            return .flush(items: d.items, end: d.end, wake: windowWaiters.isEmpty ? nil : windowWaiters.removeFirst())
        }
        var wake: [Continuation] = []
        if let w = turnWaiters.removeValue(forKey: end) { wake.append(w) }
        // The window may have reopened without a flush (a deposit was flushed earlier by another
        // turn holder): let waiters in while there is room.
        if deposits.count < window {
            wake.append(contentsOf: windowWaiters)
            windowWaiters.removeAll()
        }
        return .released(wake: wake)
    }

    /// The chunk starting at `start` failed: abandon every later chunk. Returns the waiters to
    /// resume (they find their chunk abandoned, or the window open). Only the earliest cut counts.
    package mutating func cut(at start: Int) -> [Continuation] {
        guard start < cutoff, !cancelled else { return [] }
        cutoff = start
        deposits = deposits.filter { $0.key < start }
        var wake = windowWaiters
        windowWaiters.removeAll()
        for (waiting, c) in turnWaiters where waiting > start {
            wake.append(c)
            turnWaiters[waiting] = nil
        }
        return wake
    }

    package mutating func cancel() -> [Continuation] {
        cancelled = true
        deposits.removeAll()
        let all = Array(turnWaiters.values) + windowWaiters
        turnWaiters.removeAll()
        windowWaiters.removeAll()
        return all
    }
}
