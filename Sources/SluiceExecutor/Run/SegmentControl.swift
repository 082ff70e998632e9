// One segment's shared state during a run: its workers' stop signals, its failure, and which
// worker ends its output.
import Synchronization

/// One worker's handle on its segment: its stop signal and the chunk it works on.
package final class WorkerSlot: Sendable {
    /// Set when the worker must stop (the run stopped, its work is past a failure, or it is
    /// upstream of a failure).
    package let stop = StopSignal()
    /// The start of the chunk the worker holds (`-1`: none yet).
    let chunk = Atomic<Int>(-1)
    /// Set with `stop` when the worker was stopped by its own segment's failure in unordered mode:
    /// the outputs it has completed are still delivered.
    let keepsCompleted = Atomic<Bool>(false)
}

/// How a failure in a segment ends the run without losing the items before it.
///
/// A failure is a position in the segment's input: the chunk it happened in. It *cuts* the
/// segment there. In ordered mode every chunk before the cut still goes out in turn, then the
/// failing worker's outputs for the items before the failing one, then the failure itself ends the
/// segment's output channel; later chunks are abandoned. In unordered mode every worker stops at
/// once and hands over what it completed. Everything upstream is halted (it only holds items after
/// the failure); everything downstream keeps going and passes the failure on after the items
/// before it, so the consumer receives exactly the prefix and then the error.
///
/// An input that ends with a failure (the upstream failed) is not a cut: every item before it is
/// processed and the failure is passed on at the end.
package final class SegmentControl: Sendable {
    private struct State {
        /// The failure that ends this segment's output (`nil`: none so far).
        var failure: (any Error)?
        /// True once a failure of this segment's own stages cut it.
        var isCut = false
        /// Workers that have not left yet.
        var live: Int
        var slots: [WorkerSlot] = []
        /// Stopped as a whole: workers that join later start stopped.
        var halted = false
        /// A worker left because it was stopped, not because its input ended.
        var someoneStopped = false
    }

    /// The start of the earliest failing chunk (`Int.max`: none; `Int.min`: every chunk, in
    /// unordered mode or for a failure that is not about an item).
    private let cutoff = Atomic<Int>(Int.max)
    private let state: Lock<State>
    /// Ordered with several workers: a reorder window decides what goes out.
    let sequenced: Bool
    /// Halts every segment before this one, and the source.
    private let haltUpstream: @Sendable () -> Void
    private let onCut: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - workers: how many workers will `join` and `leave`.
    ///   - sequenced: the segment is ordered with a reorder window.
    ///   - haltUpstream: stops everything before this segment.
    ///   - onCut: abandons the later chunks in the reorder window.
    init(workers: Int, sequenced: Bool, haltUpstream: @escaping @Sendable () -> Void, onCut: @escaping @Sendable (Int) -> Void) {
        state = Lock(State(live: workers))
        self.sequenced = sequenced
        self.haltUpstream = haltUpstream
        self.onCut = onCut
    }

    /// A new worker's slot.
    func join() -> WorkerSlot {
        let slot = WorkerSlot()
        let halted = state.withLock { s in
            s.slots.append(slot)
            return s.halted
        }
        if halted { slot.stop.set() }
        return slot
    }

    /// The worker takes the chunk starting at `start`. Returns `false` if the chunk is past a
    /// failure: the worker must drop it and leave.
    func enter(_ slot: WorkerSlot, chunk start: Int) -> Bool {
        slot.chunk.store(start, ordering: .sequentiallyConsistent)
        if start < cutoff.load(ordering: .sequentiallyConsistent) { return true }
        if !sequenced { slot.keepsCompleted.store(true, ordering: .relaxed) }
        slot.stop.set()
        return false
    }

    /// What a worker whose chunk failed must do.
    enum FailureAction {
        /// Hand over the outputs made before the failing item (in turn, when sequenced), then leave.
        case deliverPrefix
        /// An earlier failure already cut the segment before this chunk: drop everything and leave.
        case dropEverything
    }

    /// The chunk starting at `start` failed with `error` (`start == Int.min`: a failure that is not
    /// about an item, such as a worker's setup; `Int.max`: a failure after the last chunk, in a
    /// stage's finish).
    func fail(_ slot: WorkerSlot, _ error: any Error, chunk start: Int) -> FailureAction {
        let position = sequenced ? start : Int.min
        let decision = state.withLock { s -> (stop: [WorkerSlot], first: Bool)? in
            if s.isCut && position >= cutoff.load(ordering: .sequentiallyConsistent) { return nil }
            let first = !s.isCut
            s.isCut = true
            s.failure = error
            cutoff.store(position, ordering: .sequentiallyConsistent)
            let later = s.slots.filter { $0 !== slot && $0.chunk.load(ordering: .sequentiallyConsistent) > position }
            return (later, first)
        }
        guard let decision else { return .dropEverything }
        if !sequenced {
            for other in decision.stop { other.keepsCompleted.store(true, ordering: .relaxed) }
        }
        // Upstream first: a worker stopped below is cancelled, and a cancelled task waiting on
        // the input channel cancels that channel — its producers must already know they are
        // halted, or they would take the cancellation for one of their own.
        if decision.first { haltUpstream() }
        for other in decision.stop { other.stop.set() }
        if sequenced { onCut(position) }
        return .deliverPrefix
    }

    /// A sequential stage of this segment needs no more input (it threw `StageCompleted`): halt
    /// everything upstream. The segment's output then ends normally after what it made.
    func complete() {
        haltUpstream()
    }

    /// The worker's input ended with `error` (the upstream failed): passed on once every item
    /// before it is out, unless this segment failed earlier.
    func inputFailed(_ error: any Error) {
        state.withLock { s in
            if s.failure == nil { s.failure = error }
        }
    }

    /// Stops every worker (the run stopped, or a later segment failed).
    func halt() {
        cutoff.store(Int.min, ordering: .sequentiallyConsistent)
        let slots = state.withLock { s in
            s.halted = true
            return s.slots
        }
        for slot in slots { slot.stop.set() }
    }

    /// A worker left because it was told to stop (or its input or output was cancelled).
    func noteStopped() {
        state.withLock { $0.someoneStopped = true }
    }

    /// A worker is done. Returns `nil` while others remain; the last one gets `.some(failure)` and
    /// must end the segment's output with it. A segment whose workers were stopped without a
    /// failure of its own did not see the end of its input: its output ends with
    /// `CancellationError`, never as a normal end (which would make a partial result look whole).
    func leave() -> (any Error)?? {
        state.withLock { s in
            s.live -= 1
            guard s.live == 0 else { return nil }
            if let failure = s.failure { return .some(failure) }
            return .some(s.someoneStopped ? CancellationError() : nil)
        }
    }
}
