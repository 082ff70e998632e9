// How a kernel whose worker's task was interrupted asks for its work to go on in a new task.

/// Thrown by an asynchronous kernel whose worker's task was interrupted (`WorkerScope.interrupt`)
/// when the item in hand must still be tried again: a timed-out attempt inside a `retry`. The
/// kernel has left the chunk's remaining items in its input, the interrupted item first. The
/// worker starts its work again in a new child task from there (`SegmentWorker`), and the new
/// kernel takes `nextAttempt` for that item (`WorkerScope.resumeAttempt`).
package struct WorkRestart: Error, Sendable {
    /// The attempt the interrupted item goes on with.
    package let nextAttempt: Int

    package init(nextAttempt: Int) {
        self.nextAttempt = nextAttempt
    }
}
