// Sluice's `PipelineMetrics`, published to swift-metrics: per-stage counters, buffer gauges and busy
// time, from the snapshots the metrics' progress callback hands over.
import Metrics
import Sluice
import Synchronization

extension PipelineMetrics {
    /// Metrics whose figures are published to swift-metrics every `interval` while a run is going,
    /// and once more when it ends.
    ///
    /// For each stage (dimension `stage`, plus `dimensions`):
    /// - counters `<prefix>_stage_inputs`, `_outputs`, `_failures`, `_retries`, `_dropped`
    ///   (incremented by what the stage did since the last publication);
    /// - gauges `<prefix>_buffer_items` and `_buffer_high_water` (its output buffer, when it has one),
    ///   and `<prefix>_stage_workers`;
    /// - timers `<prefix>_stage_busy` (the busy time the stage's workers added since the last
    ///   publication) and `<prefix>_stage_throttled` (time spent waiting for a rate limiter);
    ///
    /// and for the run: a gauge `<prefix>_source_items_per_second` and a counter `<prefix>_runs_finished`.
    ///
    /// ```swift
    /// MetricsSystem.bootstrap(myPrometheusFactory)
    /// let metrics = PipelineMetrics.publishing(every: .seconds(5), dimensions: [("pipeline", "ingest")])
    /// try await pipeline.metrics(metrics).drain()
    /// ```
    ///
    /// - Parameters:
    ///   - interval: Time between two publications; more than zero.
    ///   - prefix: The start of every label.
    ///   - dimensions: Added to every metric (e.g. the pipeline's or the process's name).
    ///   - factory: The swift-metrics backend; the bootstrapped one by default.
    /// - Returns: Metrics to attach with `pipeline.metrics(_:)`; `snapshot()` works as usual.
    public static func publishing(
        every interval: Duration = .seconds(10),
        prefix: String = "sluice",
        dimensions: [(String, String)] = [],
        factory: any MetricsFactory = MetricsSystem.factory
    ) -> PipelineMetrics {
        let publisher = SwiftMetricsPublisher(prefix: prefix, dimensions: dimensions, factory: factory)
        return PipelineMetrics(progressEvery: interval) { snapshot in publisher.publish(snapshot) }
    }
}

/// Turns `MetricsSnapshot`s — cumulative figures of the latest run — into swift-metrics updates:
/// counters and timers get what changed since the previous snapshot, gauges the value now.
///
/// ``PipelineMetrics/publishing(every:prefix:dimensions:factory:)`` makes one; use it directly to
/// publish snapshots you take yourself:
///
/// ```swift
/// let publisher = SwiftMetricsPublisher(prefix: "sluice", dimensions: [], factory: MetricsSystem.factory)
/// publisher.publish(metrics.snapshot())
/// ```
public final class SwiftMetricsPublisher: Sendable {
    private let prefix: String
    private let dimensions: [(String, String)]
    private let factory: any MetricsFactory
    /// The previous snapshot's cumulative figures, by stage name, to turn totals into increments.
    private let previous = Mutex<Previous>(Previous())

    private struct Previous {
        var snapshot: MetricsSnapshot?
        var stages: [String: StageMetrics] = [:]
    }

    /// A publisher.
    ///
    /// ```swift
    /// let publisher = SwiftMetricsPublisher(prefix: "ingest", dimensions: [("host", "a")], factory: MetricsSystem.factory)
    /// ```
    ///
    /// - Parameters:
    ///   - prefix: The start of every label.
    ///   - dimensions: Added to every metric.
    ///   - factory: The swift-metrics backend.
    public init(prefix: String, dimensions: [(String, String)], factory: any MetricsFactory) {
        self.prefix = prefix
        self.dimensions = dimensions
        self.factory = factory
    }

    /// Publishes one snapshot: increments since the previous one (the first snapshot of a new run —
    /// one after a finished run's, or with a smaller `elapsed` — counts from zero), and the gauges'
    /// values now.
    ///
    /// ```swift
    /// publisher.publish(metrics.snapshot())
    /// ```
    public func publish(_ snapshot: MetricsSnapshot) {
        let before: [String: StageMetrics] = previous.withLock { state in
            // A new run resets the figures: its snapshots follow a finished one (other than that
            // same snapshot published again), or go back in time.
            let newRun = state.snapshot.map { last in
                snapshot.elapsed < last.elapsed || (last.isFinished && snapshot != last)
            } ?? true
            let before = newRun ? [:] : state.stages
            state.snapshot = snapshot
            state.stages = Dictionary(snapshot.stages.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
            return before
        }
        for stage in snapshot.stages {
            let last = before[stage.name]
            let dims = dimensions + [("stage", stage.name)]
            increment("stage_inputs", by: stage.inputs - (last?.inputs ?? 0), dims)
            increment("stage_outputs", by: stage.outputs - (last?.outputs ?? 0), dims)
            increment("stage_failures", by: stage.failures - (last?.failures ?? 0), dims)
            increment("stage_retries", by: stage.retries - (last?.retries ?? 0), dims)
            increment("stage_dropped", by: stage.dropped - (last?.dropped ?? 0), dims)
            record("stage_busy", stage.busy - (last?.busy ?? .zero), dims)
            record("stage_throttled", stage.throttled - (last?.throttled ?? .zero), dims)
            Gauge(label: label("stage_workers"), dimensions: dims, factory: factory).record(stage.workers)
            if let buffer = stage.buffer {
                Gauge(label: label("buffer_items"), dimensions: dims, factory: factory).record(buffer.current)
                Gauge(label: label("buffer_high_water"), dimensions: dims, factory: factory).record(buffer.highWater)
            }
        }
        if let rate = snapshot.sourceItemsPerSecond {
            Gauge(label: label("source_items_per_second"), dimensions: dimensions, factory: factory).record(rate)
        }
        if snapshot.isFinished {
            Counter(label: label("runs_finished"), dimensions: dimensions, factory: factory).increment()
        }
    }

    private func label(_ name: String) -> String { "\(prefix)_\(name)" }

    private func increment(_ name: String, by delta: Int, _ dims: [(String, String)]) {
        // A counter only goes up: a figure that went down belongs to a new run, published from zero.
        guard delta != 0 else { return }
        Counter(label: label(name), dimensions: dims, factory: factory).increment(by: max(delta, 0))
    }

    private func record(_ name: String, _ delta: Duration, _ dims: [(String, String)]) {
        guard delta > .zero else { return }
        let (seconds, attoseconds) = delta.components
        Metrics.Timer(label: label(name), dimensions: dims, factory: factory)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
