// One execution's shared state: the first failure, the stop flag, and what to cancel on stop.
import Synchronization

/// Shared by every task of one run. The first real failure is kept; stopping cancels every channel
/// and sequencer so that no task stays suspended.
@usableFromInline
package final class RunState: Sendable {
    @usableFromInline let stopped = Atomic<Bool>(false)
    private let state = Lock<(failure: (any Error)?, cancellers: [@Sendable () -> Void])>((nil, []))

    /// Set when the run is measured (`PipelineMetrics`); `nil` costs nothing.
    package let metrics: MetricsRecorder?

    package init(metrics: MetricsRecorder? = nil) {
        self.metrics = metrics
    }

    /// True once the run is stopping: no stage body may start after this.
    @inlinable
    package var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// The first failure recorded (never a `CancellationError`).
    package var failure: (any Error)? { state.withLock { $0.failure } }

    /// Registers something to cancel when the run stops (channels, sequencers).
    package func onStop(_ cancel: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if stopped.load(ordering: .acquiring) { return true }
            s.cancellers.append(cancel)
            return false
        }
        if runNow { cancel() }
    }

    /// Records `error` if it is the first failure (cancellation is not a failure), then stops.
    package func fail(_ error: any Error) {
        if !(error is CancellationError) {
            state.withLock { s in
                if s.failure == nil && !stopped.load(ordering: .acquiring) { s.failure = error }
            }
        }
        stop()
    }

    /// Stops the run: sets the flag and cancels every registered channel. Idempotent.
    package func stop() {
        let cancellers = state.withLock { s -> [@Sendable () -> Void] in
            stopped.store(true, ordering: .releasing)
            defer { s.cancellers.removeAll() }
            return s.cancellers
        }
        for c in cancellers { c() }
    }
}
