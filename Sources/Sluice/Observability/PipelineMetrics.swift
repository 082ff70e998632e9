// `PipelineMetrics`: opt-in per-stage counters, busy time and buffer levels for one pipeline, readable
// while it runs and after; optionally a progress callback at a fixed interval.
@_exported import struct SluiceExecutor.MetricsSnapshot
@_exported import struct SluiceExecutor.StageMetrics
@_exported import struct SluiceExecutor.BufferMetrics
import SluiceExecutor

/// Measures the runs of a pipeline it is attached to with `Pipeline.metrics(_:)`.
///
/// Only a measured run pays for measuring (a few counters per stage per item, a clock read per chunk
/// of items); other runs run exactly as before. A new run resets the figures, so a snapshot
/// describes the latest run; don't attach one `PipelineMetrics` to runs that overlap.
///
/// ```swift
/// let metrics = PipelineMetrics(progressEvery: .milliseconds(250)) { snapshot in
///     print(snapshot.progressLine)
/// }
/// let pages = try await (Pipeline(urls) | op.map(fetch).workers(8).named("fetch") | op.map(parse))
///     .metrics(metrics)
///     .collect()
/// print(metrics.snapshot().table)
/// ```
public final class PipelineMetrics: Sendable {
    let recorder: MetricsRecorder

    /// Metrics without a progress callback: read them with `snapshot()`.
    ///
    /// ```swift
    /// let metrics = PipelineMetrics()
    /// ```
    public init() {
        recorder = MetricsRecorder()
    }

    /// Metrics that also call `progress` every `interval` (measured on `clock`) while a run is going,
    /// and once more when it ends (`snapshot.isFinished`). The callback runs in a child task of the
    /// run (it ends with the run); it must not throw and should return quickly.
    ///
    /// ```swift
    /// let metrics = PipelineMetrics(progressEvery: .seconds(1)) { print($0.progressLine) }
    /// ```
    ///
    /// - Parameters:
    ///   - interval: Time between two calls of `progress`; more than zero (a precondition).
    ///   - clock: The clock the interval is measured on; `ContinuousClock` unless a test injects one.
    ///   - progress: Called with the snapshot at each tick and once at the end of each run.
    public init(
        progressEvery interval: Duration,
        clock: some Clock<Duration> = ContinuousClock(),
        _ progress: @escaping @Sendable (MetricsSnapshot) async -> Void
    ) {
        require(interval > .zero, "progress interval must be > 0, got \(interval)")
        recorder = MetricsRecorder(progress: .init(
            interval: interval, sleep: { try await clock.sleep(for: $0) }, report: progress))
    }

    /// The figures now: live while a run is going, final after it ended, empty before any run.
    ///
    /// ```swift
    /// let s = metrics.snapshot()
    /// print(s["fetch"]?.outputs ?? 0, "fetched in", s.elapsed)
    /// ```
    ///
    /// - Returns: The figures of the latest run.
    public func snapshot() -> MetricsSnapshot {
        recorder.snapshot()
    }
}

extension Pipeline {
    /// Measures this pipeline's runs into `metrics`: per stage, items in and out, failures,
    /// retries, busy time and output buffer levels.
    ///
    /// ```swift
    /// let count = try await (Pipeline(lines) | op.map(parse) | op.filter(isValid)).metrics(metrics).count()
    /// ```
    ///
    /// - Parameter metrics: Where the runs report; a new run resets it.
    /// - Returns: The same pipeline, measured.
    public func metrics(_ metrics: PipelineMetrics) -> Pipeline<Element> {
        var measured = self
        measured.options.metrics = metrics.recorder
        return measured
    }
}
