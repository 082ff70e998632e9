// Runs a planned graph: one task group per execution, every worker a child task of it.

/// The consumer's end of a run: receives the last stage's outputs in batches.
@usableFromInline
package struct RunOutput<Element: Sendable>: Sendable {
    @usableFromInline package let channel: Channel<Element>
    package let run: RunState
    /// Items to take per receive.
    @usableFromInline package let limit: Int
    /// Notes each batch the consumer takes (for an idle timeout).
    @usableFromInline package var watch: RunWatch? = nil

    /// Appends the next batch to `buffer`; returns `false` at the end. After the outputs of every
    /// item before a failure, throws that failure (a `StageFailure`); throws `CancellationError`
    /// if the run was cancelled.
    ///
    /// Inlined into the terminal (compiled where `Element` is concrete), so the channel's common
    /// receive runs without generic code.
    @inlinable
    package func receive(into buffer: inout [Element]) async throws -> Bool {
        let more = try await channel.receive(into: &buffer, limit: limit) != nil
        watch?.noteActivity()
        return more
    }
}

/// Plans and runs stage graphs.
package enum Runner {
    /// Runs `nodes` over `source`. `consume` runs on the caller's task and reads the output; when it
    /// returns (at the end, or early) the run is stopped and every task awaited before `run` returns.
    ///
    /// - Throws: what `consume` throws (a stage's failure reaches it through `RunOutput`), or
    ///   `CancellationError` whenever the caller was cancelled.
    package static func run<Output: Sendable, Result>(
        source: any SourceBody,
        nodes: [StageNode],
        options: RunOptions = RunOptions(),
        isolation: isolated (any Actor)? = #isolation,
        consume: (RunOutput<Output>) async throws -> Result
    ) async throws -> Result {
        let plan = Plan(nodes: nodes, synchronousSource: source.isSynchronous, weighedSource: options.sourceWeight != nil)
        let metrics = options.metrics
        metrics?.begin(plan)
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self, isolation: isolation) { group in
            let run = RunState(options: options)
            metrics?.startProgress(in: &group)
            options.watch?.start(in: &group, run: run)
            let output: Channel<Output> = launch(plan, source: source, sourceWeight: options.sourceWeight, group: &group, run: run)
            let result: Result
            do {
                // A cancelled caller stops the run at once (not when `consume` next resumes), so no
                // stage body starts after the cancellation — e.g. no new call on a blocking pool.
                result = try await withTaskCancellationHandler {
                    try await consume(RunOutput(channel: output, run: run, limit: plan.consumerLimit, watch: options.watch))
                } onCancel: { run.stop() }
            } catch {
                await end(run, &group, metrics)
                // An error a body made of the cancellation is not the run's failure.
                if Task.isCancelled { throw CancellationError() }
                if let limit = options.watch?.fired { throw limit }
                throw error
            }
            await end(run, &group, metrics)
            // A caller cancelled while the consumer finished the batch in hand gets
            // `CancellationError`, not a result it may think complete.
            if Task.isCancelled { throw CancellationError() }
            return result
        }
    }

    /// Stops the run and waits for every one of its tasks.
    private static func end(_ run: RunState, _ group: inout ThrowingTaskGroup<Void, any Error>, _ metrics: MetricsRecorder?) async {
        run.stop()
        group.cancelAll()
        try? await group.waitForAll()
        await metrics?.end()
    }

    /// Creates the channels and starts the source task and every worker.
    static func launch<Output: Sendable>(_ plan: Plan, source: any SourceBody, sourceWeight: ErasedWeightBound? = nil, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> Channel<Output> {
        let sourceStop = StopSignal()
        run.onStop { sourceStop.set() }
        var halts: [@Sendable () -> Void] = [{ sourceStop.set() }]
        var upstream: Any
        if plan.sourceFused {
            upstream = FusedSource(body: source)
        } else {
            let (channel, halt) = startSource(source, plan: plan, weight: sourceWeight, stop: sourceStop, group: &group, run: run)
            upstream = channel
            halts.append(halt)
        }
        for segment in plan.segments {
            let before = halts
            let (channel, halt) = startSegment(segment, input: upstream, haltUpstream: { for h in before { h() } }, group: &group, run: run)
            upstream = channel
            halts.append(halt)
        }
        return upstream as! Channel<Output>
    }

    struct FusedSource { var body: any SourceBody }

    static func startSource<S: SourceBody>(_ source: S, plan: Plan, weight: ErasedWeightBound?, stop: StopSignal, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void) {
        let channel = Channel<S.Element>(
            capacity: plan.sourceCapacity, senderCancellationCancels: false, startingLimit: Plan.startingLimit,
            weightBound: weight?.typed(as: S.Element.self))
        run.onStop { channel.cancel() }
        // Under a weight bound the source task holds one item at a time beyond the channel.
        let task = SourceTask<S.Element>(source: source, output: channel, chunk: plan.sourceIsWeighed ? 1 : plan.sourceCapacity, stop: stop)
        group.addTask { await task.run() }
        return (channel, { channel.cancel() })
    }

    static func startSegment(_ segment: Plan.Segment, input: Any, haltUpstream: @escaping @Sendable () -> Void, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void) {
        if let timed = startTimedSegment(segment, body: segment.nodes[0].body, input: input, haltUpstream: haltUpstream, group: &group, run: run) { return timed }
        // A stage with workers of its own (Shapes/LaunchingBody.swift): per-key order, expansion.
        if segment.nodes.count == 1, let launching = segment.nodes[0].body as? any LaunchingBody {
            return launching.launchErased(segment, input: input, haltUpstream: haltUpstream, group: &group, run: run)
        }
        let last: any StageBody = segment.nodes[segment.nodes.count - 1].body
        return startSegment(segment, segment.nodes[0].body, last: last, input: input, haltUpstream: haltUpstream, group: &group, run: run)
    }

    static func startSegment<First: StageBody>(_ segment: Plan.Segment, _ first: First, last: any StageBody, input: Any, haltUpstream: @escaping @Sendable () -> Void, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void) {
        startSegment(segment, first, last, input: input, haltUpstream: haltUpstream, group: &group, run: run)
    }

    static func startSegment<First: StageBody, Last: StageBody>(_ segment: Plan.Segment, _ first: First, _ last: Last, input: Any, haltUpstream: @escaping @Sendable () -> Void, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void) {
        // One producer: the segment's last worker to leave ends the channel (see `SegmentControl`).
        let node = segment.nodes[segment.nodes.count - 1]
        let weightBound = node.options.maxWeight.flatMap { max in
            (node.outputWeight as? @Sendable (Last.Output) -> Int).map { WeightBound(max: max, weigh: $0) }
        }
        let output = Channel<Last.Output>(
            capacity: segment.capacity, producers: 1, senderCancellationCancels: false,
            startingLimit: Plan.startingLimit, weightBound: weightBound)
        let workerInput: WorkerInput<First.Input>
        if let fused = input as? FusedSource {
            workerInput = .source(fused.body)
        } else {
            workerInput = .channel(input as! Channel<First.Input>)
        }
        let sequencer = segment.window > 0 ? Sequencer<Last.Output>(window: segment.window, waiterCancellationCancels: false) : nil
        let control = SegmentControl(
            workers: segment.workers, sequenced: sequencer != nil,
            haltUpstream: haltUpstream, onCut: { sequencer?.cut(at: $0) })
        let halt: @Sendable () -> Void = {
            control.halt()
            output.cancel()
            sequencer?.cancel()
        }
        run.onStop(halt)
        let worker = SegmentWorker<First.Input, Last.Output>(
            segment: segment, input: workerInput, output: output, sequencer: sequencer, control: control, run: run,
            meter: run.metrics?.segment(stages: segment.nodes.count, output: output, maxWeight: weightBound?.max))
        for _ in 0..<segment.workers {
            group.addTask(executorPreference: segment.executorPreference) { await worker.run() }
        }
        return (output, halt)
    }
}
