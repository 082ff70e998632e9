// PipelineMetrics published to swift-metrics, into MetricsTestKit's in-memory backend (passed as the
// factory, so no global bootstrap and the tests can run in parallel).
import Metrics
import MetricsTestKit
import Sluice
import SluiceMetrics
import Testing

@Suite("swift-metrics publishing")
struct SwiftMetricsTests {
    func run(_ metrics: PipelineMetrics) async throws -> Int {
        try await (Pipeline(1...1_000)
            | op.map { (n: Int) in n * 3 }.workers(2).named("triple")
            | op.filter { (n: Int) in n.isMultiple(of: 2) }.named("even"))
            .metrics(metrics)
            .count()
    }

    @Test func countersGaugesAndTimersPerStage() async throws {
        let backend = TestMetrics()
        let metrics = PipelineMetrics.publishing(every: .milliseconds(5), dimensions: [("pipeline", "t")], factory: backend)
        #expect(try await run(metrics) == 500)

        let triple: [(String, String)] = [("pipeline", "t"), ("stage", "triple")]
        let even: [(String, String)] = [("pipeline", "t"), ("stage", "even")]
        // The final publication (at the end of the run) brings the counters to the run's totals.
        #expect(backend.counterTotal(label: "sluice_stage_inputs", dimensions: triple) == 1_000)
        #expect(backend.counterTotal(label: "sluice_stage_outputs", dimensions: triple) == 1_000)
        #expect(backend.counterTotal(label: "sluice_stage_inputs", dimensions: even) == 1_000)
        #expect(backend.counterTotal(label: "sluice_stage_outputs", dimensions: even) == 500)
        #expect(backend.counterTotal(label: "sluice_stage_failures", dimensions: even) == 0)
        #expect(backend.counterTotal(label: "sluice_runs_finished", dimensions: [("pipeline", "t")]) == 1)
        #expect(try backend.expectGauge("sluice_stage_workers", triple).lastValue == 2)
        // Busy time: what the snapshot says, summed over the publications.
        let busy = metrics.snapshot()["triple"]?.busy ?? .zero
        let recorded = backend.timers(label: "sluice_stage_busy", dimensions: triple).flatMap(\.values).reduce(0, +)
        let (seconds, attoseconds) = busy.components
        #expect(recorded == seconds * 1_000_000_000 + attoseconds / 1_000_000_000 || busy == .zero)
        // Every stage with an output buffer has its gauges.
        for stage in metrics.snapshot().stages where stage.buffer != nil {
            let dims: [(String, String)] = [("pipeline", "t"), ("stage", stage.name)]
            #expect(try backend.expectGauge("sluice_buffer_high_water", dims).lastValue == Double(stage.buffer!.highWater))
        }
    }

    @Test func aSecondRunCountsFromZeroNotBackwards() async throws {
        let backend = TestMetrics()
        let metrics = PipelineMetrics.publishing(every: .milliseconds(5), prefix: "p", factory: backend)
        _ = try await run(metrics)
        _ = try await run(metrics)
        #expect(backend.counterTotal(label: "p_stage_inputs", dimensions: [("stage", "triple")]) == 2_000)
        #expect(backend.counterTotal(label: "p_stage_outputs", dimensions: [("stage", "even")]) == 1_000)
        #expect(backend.counterTotal(label: "p_runs_finished", dimensions: []) == 2)
    }

    @Test func aPublisherTurnsCumulativeSnapshotsIntoIncrements() async throws {
        let backend = TestMetrics()
        let publisher = SwiftMetricsPublisher(prefix: "x", dimensions: [], factory: backend)
        let metrics = PipelineMetrics()
        _ = try await run(metrics)
        publisher.publish(metrics.snapshot())
        publisher.publish(metrics.snapshot())   // the same figures again: nothing new
        #expect(backend.counterTotal(label: "x_stage_inputs", dimensions: [("stage", "triple")]) == 1_000)
        _ = try await run(metrics)             // a new run: its figures restart from zero
        publisher.publish(metrics.snapshot())
        #expect(backend.counterTotal(label: "x_stage_inputs", dimensions: [("stage", "triple")]) == 2_000)
    }
}
