// The single worker of a timed stage's segment (`batch(n, within:)`, `debounce`, a dropping
// buffer): it must act when time passes with no input, so its input is drained by a reader task
// into a `TimedInbox`, and a timer task wakes it at the kernel's deadline.

/// Runs one `TimedStageBody` stage with one worker. It follows the same rules as `SegmentWorker`
/// (see `SegmentControl`): a failure of its own ends its output after the outputs made before it
/// and halts upstream; a failed input is passed on after the outputs of every item before it
/// (a partial batch is not flushed, as for `batch`); a stopped worker ends its output with
/// `CancellationError`. Its three tasks are children of the worker: none outlives it.
struct TimedSegmentWorker<Body: TimedStageBody> {
    let body: Body
    let node: StageNode
    let input: Channel<Body.Input>
    let output: Channel<Body.Output>
    let control: SegmentControl
    let run: RunState
    /// Items the reader takes from the input channel at once.
    let takeLimit: Int
    var meter: SegmentMeter?

    private enum Ending {
        case finished
        case inputFailed(any Error)
        case failed(any Error)
        case stopped
    }

    func run() async {
        let slot = control.join()
        let probe = meter?.makeProbe()
        let kernel = body.makeTimedKernel(context: StageContext(name: node.name, stop: slot.stop, meter: probe?.stages[0]))
        var countDrops: (@Sendable (Int) -> Void)?
        if let counters = probe?.stages[0] {
            countDrops = { n in counters.countDrops(n) }
        }
        let inbox = TimedInbox<Body.Input>(
            capacity: kernel.overflow == .wait ? takeLimit : kernel.capacity, overflow: kernel.overflow,
            onDrop: kernel.onDrop, countDrops: countDrops)
        var outbox: [Body.Output] = []
        let ending = await withTaskGroup(of: Void.self, returning: Ending.self) { group in
            let input = self.input, limit = takeLimit, timeline = kernel.timeline, counters = probe?.stages[0]
            group.addTask {
                var buffer: [Body.Input] = []
                while true {
                    do {
                        guard try await input.receive(into: &buffer, limit: limit) != nil else {
                            inbox.end(Optional<any Error>.none)
                            return
                        }
                    } catch {
                        inbox.end(error)
                        return
                    }
                    // The reader is the one writer of the stage's input count: an item entered the
                    // stage when it was read, whether it is processed or dropped.
                    counters?.countInputs(buffer.count)
                    guard await inbox.put(&buffer) else { return }
                }
            }
            group.addTask {
                while let deadline = await inbox.nextDeadline() {
                    do { try await timeline.sleep(deadline) } catch { return }
                    inbox.wake()
                }
            }
            group.addTask {
                await slot.stop.wait()
                inbox.stop()
            }
            let ending = await work(kernel, inbox, slot, probe, &outbox)
            // Upstream is halted (by a failure of this stage) before the reader is cancelled:
            // a cancelled reader cancels the input channel (see `SegmentControl.fail`).
            await conclude(ending, slot, &outbox)
            inbox.close()
            group.cancelAll()
            return ending
        }
        if case .stopped = ending { control.noteStopped() }
        if let last = control.leave() { output.finish(failure: last) }
    }

    private func work(_ kernel: TimedKernel<Body.Input, Body.Output>, _ inbox: TimedInbox<Body.Input>, _ slot: WorkerSlot, _ probe: WorkerProbe?, _ outbox: inout [Body.Output]) async -> Ending {
        var inbox_: [Body.Input] = []
        var sequence = 0
        // Items are handed over one at a time when the buffer drops: what waits in the inbox is
        // what a full buffer may drop, not what the worker holds.
        let take = kernel.overflow == .wait ? takeLimit : 1
        while true {
            let event = await inbox.take(into: &inbox_, limit: take)
            if slot.stop.isSet { return .stopped }
            switch event {
            case .stopped:
                return .stopped
            case .end(let failure):
                if let failure { return failure is CancellationError ? .stopped : .inputFailed(failure) }
                let busy = probe?.startBusy()
                do {
                    defer { probe?.endBusy(since: busy) }
                    try fireIfDue(kernel, &outbox)
                    try kernel.finish(&outbox)
                } catch {
                    return .failed(error)
                }
                do { try await send(&outbox, probe) } catch { return .stopped }
                return .finished
            case .items:
                guard control.enter(slot, chunk: sequence) else { return .stopped }
                sequence += inbox_.count
                // Busy time, as for any stage: the kernel's work, not the waits around it.
                let busy = probe?.startBusy()
                do {
                    defer { probe?.endBusy(since: busy) }
                    for x in inbox_ {
                        // A deadline reached before this item arrived closes what it waited for.
                        try fireIfDue(kernel, &outbox)
                        try kernel.receive(x, kernel.timeline.now(), &outbox)
                    }
                } catch {
                    probe?.stages[0].countFailure()
                    return .failed(error)
                }
                inbox_.removeAll(keepingCapacity: true)
            case .wake:
                let busy = probe?.startBusy()
                do {
                    defer { probe?.endBusy(since: busy) }
                    try fireIfDue(kernel, &outbox)
                } catch {
                    return .failed(error)
                }
            }
            do { try await send(&outbox, probe) } catch { return .stopped }
            inbox.arm(kernel.deadline())
        }
    }

    private func fireIfDue(_ kernel: TimedKernel<Body.Input, Body.Output>, _ outbox: inout [Body.Output]) throws {
        if let deadline = kernel.deadline() {
            let now = kernel.timeline.now()
            if now >= deadline { try kernel.fire(now, &outbox) }
        }
    }

    private func send(_ outbox: inout [Body.Output], _ probe: WorkerProbe?) async throws {
        guard !outbox.isEmpty else { return }
        probe?.countOutputs(outbox.count)
        try await output.send(&outbox)
    }

    private func conclude(_ ending: Ending, _ slot: WorkerSlot, _ outbox: inout [Body.Output]) async {
        switch ending {
        case .finished, .stopped:
            return
        case .inputFailed(let error):
            control.inputFailed(error)
            try? await output.send(&outbox)
        case .failed(let error):
            if case .deliverPrefix = control.fail(slot, error, chunk: Int.min) {
                try? await output.send(&outbox)
            }
        }
    }
}

extension Runner {
    /// Starts the segment of a timed stage (see `TimedSegmentWorker`), if `body` is one.
    static func startTimedSegment(_ segment: Plan.Segment, body: any StageBody, input: Any, haltUpstream: @escaping @Sendable () -> Void, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void)? {
        guard segment.nodes.count == 1, let timed = body as? any TimedStageBody else { return nil }
        return startTimed(segment, timed, input: input, haltUpstream: haltUpstream, group: &group, run: run)
    }

    private static func startTimed<B: TimedStageBody>(_ segment: Plan.Segment, _ body: B, input: Any, haltUpstream: @escaping @Sendable () -> Void, group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void) {
        precondition(segment.workers == 1, "a timed stage has one worker")
        let node = segment.nodes[0]
        // A bound in bytes on the stage's output (`.buffer(maxWeight:weight:)`), as for any stage.
        let weightBound = node.options.maxWeight.flatMap { max in
            (node.outputWeight as? @Sendable (B.Output) -> Int).map { WeightBound(max: max, weigh: $0) }
        }
        let output = Channel<B.Output>(
            capacity: body.outputCapacity ?? segment.capacity, producers: 1, senderCancellationCancels: false,
            startingLimit: body.outputCapacity == nil ? Plan.startingLimit : nil, weightBound: weightBound)
        let control = SegmentControl(workers: 1, sequenced: false, haltUpstream: haltUpstream, onCut: { _ in })
        let halt: @Sendable () -> Void = {
            control.halt()
            output.cancel()
        }
        run.onStop(halt)
        let worker = TimedSegmentWorker(
            body: body, node: segment.nodes[0], input: input as! Channel<B.Input>, output: output,
            control: control, run: run, takeLimit: segment.takeLimit,
            meter: run.metrics?.segment(stages: 1, output: output, maxWeight: weightBound?.max))
        group.addTask(executorPreference: segment.executorPreference) { await worker.run() }
        return (output, halt)
    }
}
