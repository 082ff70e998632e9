// Runs a planned graph: one task group per execution, every worker a child task of it.

/// The consumer's end of a run: receives the last stage's outputs in batches.
@usableFromInline
package struct RunOutput<Element: Sendable>: Sendable {
    package let channel: Channel<Element>
    package let run: RunState
    /// Items to take per receive.
    package let limit: Int

    /// Appends the next batch to `buffer`; returns `false` at the end. Throws the run's first
    /// failure (a `StageFailure`), or `CancellationError` if the run was cancelled.
    @usableFromInline
    package func receive(into buffer: inout [Element]) async throws -> Bool {
        do {
            return try await channel.receive(into: &buffer, limit: limit) != nil
        } catch {
            throw run.failure ?? error
        }
    }
}

/// Plans and runs stage graphs.
package enum Executor {
    /// Runs `nodes` over `source`. `consume` runs on the caller's task and reads the output; when it
    /// returns (at the end, or early) the run is stopped and every task awaited before `run` returns.
    package static func run<Output: Sendable, Result>(
        source: any SourceBody,
        nodes: [StageNode],
        isolation: isolated (any Actor)? = #isolation,
        consume: (RunOutput<Output>) async throws -> Result
    ) async throws -> Result {
        let (source, metrics) = MetricsRecorder.unwrap(source)  // a measured run carries its recorder
        let plan = Plan(nodes: nodes, synchronousSource: source.isSynchronous)
        metrics?.begin(plan)
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self, isolation: isolation) { group in
            let run = RunState(metrics: metrics)
            metrics?.startProgress(in: &group)
            let output: Channel<Output> = launch(plan, source: source, group: &group, run: run)
            let result: Result
            do {
                // A cancelled caller stops the run at once (not when `consume` next resumes), so no
                // stage body starts after the cancellation — e.g. no new call on a blocking pool.
                result = try await withTaskCancellationHandler {
                    try await consume(RunOutput(channel: output, run: run, limit: plan.consumerLimit))
                } onCancel: { run.stop() }
            } catch {
                run.stop()
                group.cancelAll()
                try? await group.waitForAll()
                await metrics?.end()
                throw run.failure ?? error
            }
            run.stop()
            group.cancelAll()
            try? await group.waitForAll()
            await metrics?.end()
            return result
        }
    }

    /// Creates the channels and starts the source task and every worker.
    static func launch<Output: Sendable>(_ plan: Plan, source: any SourceBody, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> Channel<Output> {
        var upstream: Any
        if plan.sourceFused {
            upstream = FusedSource(body: source)
        } else {
            upstream = startSource(source, plan: plan, group: &group, run: run)
        }
        for segment in plan.segments {
            upstream = startSegment(segment, input: upstream, group: &group, run: run)
        }
        return upstream as! Channel<Output>
    }

    struct FusedSource { var body: any SourceBody }

    static func startSource<S: SourceBody>(_ source: S, plan: Plan, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> Any {
        let channel = Channel<S.Element>(capacity: plan.sourceCapacity)
        run.onStop { channel.cancel() }
        let task = SourceTask<S.Element>(source: source, output: channel, chunk: plan.sourceCapacity, run: run)
        group.addTask { await task.runReportingFailure() }
        return channel
    }

    static func startSegment(_ segment: Plan.Segment, input: Any, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> Any {
        let last: any StageBody = segment.nodes[segment.nodes.count - 1].body
        return startSegment(segment, segment.nodes[0].body, last: last, input: input, group: &group, run: run)
    }

    static func startSegment<First: StageBody>(_ segment: Plan.Segment, _ first: First, last: any StageBody, input: Any, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> Any {
        startSegment(segment, first, last, input: input, group: &group, run: run)
    }

    static func startSegment<First: StageBody, Last: StageBody>(_ segment: Plan.Segment, _ first: First, _ last: Last, input: Any, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> Any {
        let output = Channel<Last.Output>(capacity: segment.capacity, producers: segment.workers)
        run.onStop { output.cancel() }
        let workerInput: WorkerInput<First.Input>
        if let fused = input as? FusedSource {
            workerInput = .source(fused.body)
        } else {
            workerInput = .channel(input as! Channel<First.Input>)
        }
        var sequencer: Sequencer<Last.Output>?
        if segment.window > 0 {
            let s = Sequencer<Last.Output>(window: segment.window)
            run.onStop { s.cancel() }
            sequencer = s
        }
        let worker = SegmentWorker<First.Input, Last.Output>(
            segment: segment, input: workerInput, output: output, sequencer: sequencer, run: run,
            meter: run.metrics?.segment(stages: segment.nodes.count, output: output))
        for _ in 0..<segment.workers {
            group.addTask(executorPreference: segment.executorPreference) { await worker.runReportingFailure() }
        }
        return output
    }
}
