// The reorder window's storage: a lock around SequencerStateMachine, sending in turn.


/// Keeps the outputs of an ordered multi-worker stage in input order (see `SequencerStateMachine`).
package final class Sequencer<Element: Sendable>: Sendable {
    typealias Machine = SequencerStateMachine<Element, UnsafeContinuation<Void, Never>>
    private let state: Lock<Machine>

    package init(window: Int) {
        state = Lock(Machine(window: window))
    }

    private func suspend(_ register: (inout Machine, UnsafeContinuation<Void, Never>) -> UnsafeContinuation<Void, Never>?) async throws {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                state.withLock { register(&$0, c) }?.resume()
            }
        } onCancel: {
            self.cancel()
        }
        if state.withLock({ $0.cancelled }) { throw CancellationError() }
    }

    /// Waits until the window has room for another chunk.
    package func enterWindow() async throws {
        if state.withLock({ $0.windowIsOpen }) {
            if state.withLock({ $0.cancelled }) { throw CancellationError() }
            return
        }
        try await suspend { $0.waitForWindow($1) }
    }

    /// Does chunk `start` have the turn now? (It keeps it until its `complete`.)
    package func hasTurn(start: Int) -> Bool {
        state.withLock { $0.hasTurn(start: start) }
    }

    /// Waits until chunk `start` has the turn. Throws `CancellationError` if the chunk is
    /// abandoned (an earlier chunk failed) or the run stopped.
    package func waitForTurn(start: Int) async throws {
        if state.withLock({ $0.hasTurn(start: start) }) { return }
        try await suspend { $0.waitForTurn(start: start, $1) }
        if state.withLock({ $0.isAbandoned(start: start) }) { throw CancellationError() }
    }

    /// Is chunk `start` past a failure?
    package func isAbandoned(start: Int) -> Bool {
        state.withLock { $0.isAbandoned(start: start) }
    }

    /// The chunk starting at `start` failed: abandon the later ones (see `SequencerStateMachine`).
    package func cut(at start: Int) {
        for c in state.withLock({ $0.cut(at: start) }) { c.resume() }
    }

    /// Chunk `start..<end` is complete. Sends `items` to `output` if it is its turn (then flushes the
    /// deposits that follow), otherwise deposits them. `hasTurn`: the caller already waited for it.
    package func complete(start: Int, end: Int, items: inout [Element], hasTurn: Bool, output: Channel<Element>) async throws {
        if !hasTurn {
            guard state.withLock({ $0.complete(start: start, end: end, items: &items) }) else { return }
        }
        try await output.send(&items)
        var cursor = end
        while true {
            switch state.withLock({ $0.advance(to: cursor) }) {
            case .flush(var next, let nextEnd, let wake):
                wake?.resume()
                try await output.send(&next)
                cursor = nextEnd
            case .released(let wake):
                for c in wake { c.resume() }
                return
            }
        }
    }

    package func cancel() {
        for c in state.withLock({ $0.cancel() }) { c.resume() }
    }
}
