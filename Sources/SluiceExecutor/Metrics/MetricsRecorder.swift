// Collects a measured run's instruments and turns them into snapshots; drives the progress ticks.
import Synchronization

/// The executor's side of `PipelineMetrics`. A run that carries one (see `MeteredSource`) gives each
/// segment a `SegmentMeter` and each worker a `WorkerProbe`; unmeasured runs never touch this type.
///
/// A recorder describes the latest run: `begin` resets it. Overlapping runs with one recorder would
/// mix up; the front end documents that.
package final class MetricsRecorder: Sendable {
    /// A progress callback and how to wait between calls.
    package struct Progress: Sendable {
        package var interval: Duration
        package var sleep: @Sendable (Duration) async throws -> Void
        package var report: @Sendable (MetricsSnapshot) async -> Void

        package init(interval: Duration, sleep: @escaping @Sendable (Duration) async throws -> Void, report: @escaping @Sendable (MetricsSnapshot) async -> Void) {
            self.interval = interval
            self.sleep = sleep
            self.report = report
        }
    }

    private struct Row {
        var name: String
        var kind: String
        var workers: Int
        var segment: Int
        var position: Int
        var isLast: Bool
    }

    private struct State {
        var rows: [Row] = []
        var segments: [SegmentMeter] = []
        var started: ContinuousClock.Instant?
        var ended: ContinuousClock.Instant?
    }

    private let state = Lock(State())
    package let progress: Progress?

    package init(progress: Progress? = nil) {
        self.progress = progress
    }

    // MARK: Called by the executor

    /// A run of `plan` starts: forget the previous run, lay out one row per stage.
    package func begin(_ plan: Plan) {
        var rows: [Row] = []
        for (s, segment) in plan.segments.enumerated() {
            for (i, node) in segment.nodes.enumerated() {
                rows.append(Row(name: node.name, kind: node.kind.rawValue, workers: segment.workers, segment: s,
                                position: i, isLast: i == segment.nodes.count - 1))
            }
        }
        state.withLock { $0 = State(rows: rows, segments: [], started: .now, ended: nil) }
    }

    /// The executor starts the next segment (they start in plan order) with this output channel.
    package func segment<Element>(stages: Int, output: Channel<Element>, maxWeight: Int? = nil) -> SegmentMeter {
        let meter = SegmentMeter(stages: stages, output: output, maxWeight: maxWeight)
        state.withLock { $0.segments.append(meter) }
        return meter
    }

    /// Adds the progress ticker to the run's task group (a child task: it ends with the run).
    package func startProgress(in group: inout ThrowingTaskGroup<Void, any Error>) {
        guard let progress else { return }
        group.addTask { [self] in
            while true {
                do { try await progress.sleep(progress.interval) } catch { return }
                if Task.isCancelled { return }
                await progress.report(snapshot())
            }
        }
    }

    /// The run is over (every task of it has ended): stop the clock and send the final report.
    package func end() async {
        state.withLock { $0.ended = .now }
        if let progress { await progress.report(snapshot()) }
    }

    // MARK: Reading

    /// The counters now, summed over workers.
    package func snapshot() -> MetricsSnapshot {
        let (rows, segments, started, ended) = state.withLock { ($0.rows, $0.segments, $0.started, $0.ended) }
        guard let started else { return MetricsSnapshot(stages: [], elapsed: .zero, isFinished: false) }
        var stages: [StageMetrics] = []
        stages.reserveCapacity(rows.count)
        for row in rows {
            // Rows of a segment that has not started yet (an instant at the very beginning) are zero.
            let meter = row.segment < segments.count ? segments[row.segment] : nil
            let probes = meter?.workers ?? []
            func sum(_ value: (WorkerProbe) -> Int) -> Int { probes.reduce(0) { $0 + value($1) } }
            let inputs = sum { $0.stages[row.position].inputs.load(ordering: .relaxed) }
            let outputs = row.isLast
                ? sum { $0.outputs.load(ordering: .relaxed) }
                : sum { $0.stages[row.position + 1].inputs.load(ordering: .relaxed) }
            let busy = probes.reduce(Int64(0)) { $0 + $1.busyNanoseconds.load(ordering: .relaxed) }
            var buffer: BufferMetrics?
            if row.isLast, let meter {
                let current = meter.sampleBuffer()
                let weight = meter.maxWeight == nil ? 0 : meter.sampleWeight()
                buffer = BufferMetrics(
                    capacity: meter.capacity, current: current, highWater: meter.highWaterMark,
                    maxWeight: meter.maxWeight, weight: weight, weightHighWater: meter.weightHighWaterMark)
            }
            var stage = StageMetrics(
                name: row.name, kind: row.kind, workers: row.workers,
                inputs: inputs, outputs: outputs,
                failures: sum { $0.stages[row.position].failures.load(ordering: .relaxed) },
                retries: sum { $0.stages[row.position].retries.load(ordering: .relaxed) },
                busy: .nanoseconds(busy), sharesTaskWithPrevious: row.position > 0, buffer: buffer)
            stage.dropped = sum { $0.stages[row.position].dropped.load(ordering: .relaxed) }
            stage.throttled = .nanoseconds(probes.reduce(Int64(0)) { $0 + $1.stages[row.position].throttled.load(ordering: .relaxed) })
            stages.append(stage)
        }
        return MetricsSnapshot(stages: stages, elapsed: started.duration(to: ended ?? .now), isFinished: ended != nil)
    }
}
