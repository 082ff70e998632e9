// How a kernel whose worker's task was interrupted asks for its work to go on in a new task.
import Synchronization

/// Thrown by an asynchronous kernel whose worker's task was interrupted (`WorkerScope.interrupt`)
/// when the item in hand must still be tried again: a timed-out attempt inside a `retry`. The
/// kernel has left the chunk's remaining items in its input, the interrupted item first. The
/// worker starts its work again in a new child task from there (`SegmentWorker`), and the new
/// kernel takes the restart back (`WorkerScope.resumed`) to go on with that item.
package struct WorkRestart: Error, Sendable {
    /// The attempt the interrupted item goes on with.
    package let nextAttempt: Int
    /// When the interrupted item's first attempt started (`monotonicNanoseconds`), so that its
    /// events time the whole item; 0 when nobody observes it.
    package let startedAt: Int64
    /// Reports the interrupted item's end when its work does not go on (the worker stopped, or
    /// its new work ended before the kernel took the item back): a started item always ends.
    package let abandoned: (@Sendable () async -> Void)?

    package init(nextAttempt: Int, startedAt: Int64 = 0, abandoned: (@Sendable () async -> Void)? = nil) {
        self.nextAttempt = nextAttempt
        self.startedAt = startedAt
        self.abandoned = abandoned
    }
}

/// A restart handed to the new work (`WorkerScope.resumed`): taken once by the kernel that goes
/// on with the item; if nobody took it when that work ended, the worker reports it abandoned.
package final class ResumedWork: Sendable {
    package let restart: WorkRestart
    private let taken = Atomic<Bool>(false)

    package init(_ restart: WorkRestart) {
        self.restart = restart
    }

    /// The restart, the first time only (`nil` after that).
    package func take() -> WorkRestart? {
        taken.exchange(true, ordering: .acquiringAndReleasing) ? nil : restart
    }

    /// The work ended: reports the item's end unless a kernel took it back.
    package func settle() async {
        if take() != nil { await restart.abandoned?() }
    }
}
