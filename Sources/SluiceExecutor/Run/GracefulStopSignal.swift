// The executor's side of a graceful stop: a flag the source reads, the waiters it wakes, and the
// deadline after which the run is stopped at once.
import Synchronization

/// Set once to stop a pipeline gracefully: its source reads nothing more, every item already read
/// finishes, and the run ends normally — unless `deadline` passes first, when the run is stopped
/// like a timed-out one (`PipelineTimeout.Limit.gracefulStop`).
package final class GracefulStopSignal: Sendable {
    private let requested = Atomic<Bool>(false)
    private struct State {
        var deadline: Duration?
        var waiters: [Int: UnsafeContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }
    private let state = Lock(State())
    /// The clock the deadline is measured on.
    package let makeTimeline: @Sendable () -> Timeline

    package init(makeTimeline: @escaping @Sendable () -> Timeline) {
        self.makeTimeline = makeTimeline
    }

    /// True once a stop was requested.
    package var isRequested: Bool { requested.load(ordering: .acquiring) }

    /// The deadline of the request, measured from it (`nil`: none, or not requested).
    package var deadline: Duration? { state.withLock { $0.deadline } }

    /// Requests the stop (the first request's deadline counts) and wakes every waiter.
    package func request(deadline: Duration?) {
        let woken = state.withLock { s -> [UnsafeContinuation<Void, Never>] in
            if requested.load(ordering: .acquiring) { return [] }
            s.deadline = deadline
            requested.store(true, ordering: .releasing)
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in woken { w.resume() }
    }

    /// Returns once a stop is requested, or once the waiting task is cancelled.
    package func wait() async {
        let id = state.withLock { s -> Int in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if requested.load(ordering: .acquiring) || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiting?.resume()
        }
    }
}
