// One execution's shared state: the stop flag and what to cancel when the run stops.
import Synchronization

/// Per-run settings that do not change the graph: given to `Runner.run` by the terminal.
package struct RunOptions: Sendable {
    /// Set when the run is measured (`PipelineMetrics`); `nil` costs nothing.
    package var metrics: MetricsRecorder?
    /// Bounds the source's read-ahead by total weight (`nil`: by count only).
    package var sourceWeight: ErasedWeightBound?
    /// The pipeline's time limits (`timeout`, `idleTimeout`), if any.
    package var limits: RunLimits?
    /// The watch enforcing `limits` during one run (made by the terminal for each run).
    package var watch: RunWatch?

    package init(metrics: MetricsRecorder? = nil, sourceWeight: ErasedWeightBound? = nil) {
        self.metrics = metrics
        self.sourceWeight = sourceWeight
    }
}

/// A weight bound whose function's element type is erased: a `@Sendable (Element) -> Int`,
/// cast back where the element type is known.
package struct ErasedWeightBound: Sendable {
    package var max: Int
    package var weigh: any Sendable

    package init(max: Int, weigh: any Sendable) {
        self.max = max
        self.weigh = weigh
    }

    package func typed<Element>(as: Element.Type) -> WeightBound<Element>? {
        (weigh as? @Sendable (Element) -> Int).map { WeightBound(max: max, weigh: $0) }
    }
}

/// Shared by every task of one run. Stopping it sets every worker's stop signal and cancels every
/// channel and sequencer, so that no body starts and no task stays suspended.
///
/// A stage failure does not stop the run: it travels down the channels behind the items before
/// it (see `SegmentControl`). The run stops when the consumer is done (it returned, threw, or has
/// what it needs), when the caller is cancelled, or when a body throws `CancellationError` on
/// its own.
package final class RunState: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let cancellers = Lock<[@Sendable () -> Void]>([])

    /// Set when the run is measured.
    package let metrics: MetricsRecorder?

    package init(options: RunOptions = RunOptions()) {
        self.metrics = options.metrics
    }

    /// True once the run is stopping.
    package var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Registers something to cancel when the run stops (signals, channels, sequencers). Runs it
    /// at once if the run has already stopped.
    package func onStop(_ cancel: @escaping @Sendable () -> Void) {
        let runNow = cancellers.withLock { list -> Bool in
            if stopped.load(ordering: .acquiring) { return true }
            list.append(cancel)
            return false
        }
        if runNow { cancel() }
    }

    /// Stops the run: sets the flag and cancels everything registered. Idempotent.
    package func stop() {
        let all = cancellers.withLock { list -> [@Sendable () -> Void] in
            stopped.store(true, ordering: .releasing)
            defer { list.removeAll() }
            return list
        }
        for c in all { c() }
    }
}
