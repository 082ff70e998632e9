// One worker of one segment: takes chunks of input, pushes them through the segment's stages,
// and hands the outputs over in batches (in turn, when the segment is ordered and parallel).

/// Where a worker's input comes from.
package enum WorkerInput<Element: Sendable>: Sendable {
    case channel(Channel<Element>)
    /// The source, read inside this (single) worker.
    case source(any SourceBody)
}

/// The outputs a worker has produced but not handed over yet.
@usableFromInline
package final class Outbox<Element: Sendable> {
    /// Unchecked: only its worker's task touches the outbox, one access at a time (an ordered
    /// async stage appends to it once per item, where a checked access costs a runtime call).
    @exclusivity(unchecked) @usableFromInline package var items: [Element] = []
    /// The chunk being processed (its first sequence number), and whether it holds the turn.
    var chunkStart = 0
    var hasTurn = false
    /// The output channel's send compiled for `Element` (the segment's kernel's), if any.
    var sendPort: SendPort<Element>?

    package init() {}

    /// Sends every item to `channel` (see `Channel.send`), through the port when there is one.
    func handOver(to channel: Channel<Element>, urgent: Bool = true) async throws {
        if let sendPort {
            try await sendPort.send(channel, &items, urgent)
        } else {
            try await channel.send(&items, urgent: urgent)
        }
    }
}

/// How many items a worker takes at once: as many as fit in `chunkWork` at the rate of the last
/// chunk, growing at most twofold per chunk, from one item up to the plan's take limit.
///
/// So the first chunk is one item; tiny items soon move in whole batches (the cost of taking and
/// handing over a chunk, a few microseconds, is spread over many items); items of about 20 µs go
/// fifty at a time; and an item that takes longer than `chunkWork` is taken alone, so heavy items
/// spread over every worker of a stage (a worker does not take a whole batch of 2 ms items while
/// the others idle). A consumer that needs a few items does not make a worker read far ahead.
package struct TakeSize {
    let limit: Int
    private(set) var current = 1
    /// The last chunk's work per item is below `quickItem`: items cost less than waking a
    /// parked worker for them.
    private(set) var itemsAreQuick = false

    /// Below this much work an item is not worth another worker's wake-up (a thread wake-up and
    /// a task switch, a few microseconds here): the workers of a parallel stage share what is
    /// queued only when items take longer.
    static let quickItem = Duration.microseconds(5)
    /// The most quick items a worker of a parallel asynchronous stage takes at once: if one of
    /// them turns out slow (a cache miss among hits), at most this many wait behind it — under
    /// 0.3 ms of work at the quick threshold. (With 16 the workers came back so often that they
    /// found the queue empty and parked ten times as often as one worker: W6 `workers(4)`
    /// unordered took 2.2–2.4× one worker's time; 1.65–1.75× with 64 and the channel counting on
    /// the worker's return, `ChannelStateMachine.returningReceivers`.)
    package static let quickChunk = 64

    /// The work a chunk should take: long enough that handing it over (and waking its consumer)
    /// costs little next to it, short enough that slow items are taken one at a time. (W3, 20 µs
    /// items on two workers: 1.6× the loop's speed with 100 µs chunks, 1.7–1.8× with 1 ms.)
    static let chunkWork = Duration.milliseconds(1)
    /// Outputs that took longer than this to make are handed over at once, not held for a batch.
    static let slowItem = Duration.microseconds(200)

    init(limit: Int) {
        self.limit = Swift.max(1, limit)
    }

    mutating func update(items: Int, elapsed: Duration) {
        guard items > 0 else { return }
        // In whole nanoseconds (`Duration`'s division goes through `Double` and 128-bit
        // conversions, a few hundred instructions per chunk); anything past a second counts as
        // a second, which is far past both thresholds.
        let (seconds, attoseconds) = elapsed.components
        let nanoseconds = seconds >= 1 ? 1_000_000_000 : seconds < 0 ? 0 : Int(attoseconds / 1_000_000_000)
        itemsAreQuick = nanoseconds < Self.quickItemNanoseconds * items
        // Items that fit in `chunkWork` at this chunk's rate (all of them when it took no time).
        let fit = nanoseconds <= 0 ? Int.max : Self.chunkWorkNanoseconds * items / nanoseconds
        current = Swift.max(1, Swift.min(limit, current * 2, fit))
    }

    static let quickItemNanoseconds = Int(quickItem.components.attoseconds / 1_000_000_000)
    static let chunkWorkNanoseconds = Int(chunkWork.components.attoseconds / 1_000_000_000)
}

struct SegmentWorker<Input: Sendable, Output: Sendable> {
    let segment: Plan.Segment
    let input: WorkerInput<Input>
    let output: Channel<Output>
    let sequencer: Sequencer<Output>?
    let control: SegmentControl
    let run: RunState
    /// Set when the run is measured: each worker takes a probe from it.
    var meter: SegmentMeter? = nil

    /// How a worker's loop ended.
    private enum Ending {
        /// The input ended: everything was handed over.
        case finished
        /// The input ended with a failure from upstream: pass it on after what is handed over.
        case inputFailed(any Error)
        /// A stage failed on an item of the chunk starting at `chunk` (`Int.min`: not on an item).
        case failed(any Error, chunk: Int)
        /// The worker was told to stop (or its input or output was cancelled).
        case stopped
        /// A body threw `CancellationError` of its own accord: the run ends as cancelled.
        case bodyCancelled
        /// A stage needs no more input (`StageCompleted`): hand over what it made, end normally.
        case completed
        /// The work's task was interrupted with an item still to try (`WorkRestart`): start the
        /// work again in a new task from `Resume`.
        case restart(Resume)
    }

    /// Where interrupted work goes on (see `WorkRestart`): the rest of the chunk in hand, the
    /// interrupted item first, and that item's next attempt.
    struct Resume: Sendable {
        var work: ResumedWork
        var remaining: [Input]
        /// The chunk's first sequence number and its size (for the reorder window).
        var chunkStart: Int
        var chunkCount: Int
        /// The worker held the turn of an ordered stage (it handed part of the chunk over).
        var hasTurn: Bool
    }

    /// Runs until the input ends, then hands the segment's ending (the end, or a failure) on.
    /// Never throws: failures travel down the channels.
    func run() async {
        let slot = control.join()
        let outbox = Outbox<Output>()
        let ending: Ending
        if segment.isSynchronous {
            // A synchronous body cannot be interrupted: kernels check the stop signal per item.
            ending = await workAndExit(slot, outbox)
        } else {
            (ending, outbox.items) = await workCancellable(slot)
        }
        await conclude(ending, slot, outbox)
        if case .stopped = ending { control.noteStopped() }
        if let last = control.leave() { output.finish(failure: last) }
    }

    private func workAndExit(_ slot: WorkerSlot, _ outbox: Outbox<Output>, interruptible: Bool = false, resume: Resume? = nil) async -> Ending {
        let scope = WorkerScope()
        if interruptible {
            // The watcher in `workCancellable` returns, and cancels this task.
            let stop = slot.stop
            scope.interrupt = { stop.interruptWaiter() }
        }
        scope.resumed = resume?.work
        let ending = await work(scope, slot, outbox, resume: resume)
        await scope.exit()
        return ending
    }

    /// Runs the work in a child task that is cancelled as soon as the worker's stop signal is set,
    /// so an asynchronous body waiting on something (a request, a sleep, a retry's backoff) past a
    /// failure or after the run stopped ends at once; or when the work interrupts itself (a timed
    /// kernel's item past its deadline, `WorkerScope.interrupt`). Returns the ending and what the
    /// outbox kept.
    private func workCancellable(_ slot: WorkerSlot) async -> (Ending, [Output]) {
        var resume: Resume?
        var kept: [Output] = []
        while true {
            let (ending, items) = await workCancellable(slot, resume: resume, kept: kept)
            // A restarted item the work ended without (it stopped first): it ends here.
            await resume?.work.settle()
            // Interrupted with an item still to try: the work goes on in a new task, with a new
            // watcher (the interrupt used the last one's wait), unless the worker stops.
            guard case .restart(let next) = ending else { return (ending, items) }
            if slot.stop.isSet || run.isStopped {
                await next.work.settle()
                return (.stopped, items)
            }
            slot.stop.rearmWaiter()
            resume = next
            kept = items
        }
    }

    /// One task of the worker's work (see above), starting from `resume` with `kept` outputs.
    private func workCancellable(_ slot: WorkerSlot, resume: Resume?, kept: [Output]) async -> (Ending, [Output]) {
        await withTaskGroup(of: (Ending, [Output])?.self) { group in
            group.addTask {
                let outbox = Outbox<Output>()
                outbox.items = kept
                let ending = await workAndExit(slot, outbox, interruptible: true, resume: resume)
                return (ending, outbox.items)
            }
            group.addTask {
                await slot.stop.wait()
                return nil
            }
            var result: (Ending, [Output])?
            while let next = await group.next() {
                if let next { result = next }
                group.cancelAll()   // the work ended (stop the watcher), or the signal fired
            }
            return result!
        }
    }

    private func work(_ scope: WorkerScope, _ slot: WorkerSlot, _ outbox: Outbox<Output>, resume: Resume? = nil) async -> Ending {
        let reader: Reader
        do {
            reader = try await Reader(input, stop: slot.stop)
        } catch {
            return classify(inputError: error)
        }
        scope.flushOutputs = { try await flushIfInTurn(outbox) }
        outbox.items.reserveCapacity(segment.outboxLimit)
        var inbox: [Input] = []
        inbox.reserveCapacity(segment.takeLimit)
        let probe = meter?.makeProbe()
        let context = StageContext(name: "", stop: slot.stop, scope: scope)

        if segment.isSynchronous, let kernel: ChunkKernel<Input, Output> = KernelComposer.kernel(segment.nodes, context: context, probe: probe) {
            // The work that made the outputs the outbox holds.
            var held = Duration.zero
            reader.port = kernel.receivePort
            outbox.sendPort = kernel.sendPort
            return await loop(scope, slot, outbox, reader, &inbox) { inbox in
                let busy = probe?.startBusy()
                defer { probe?.endBusy(since: busy) }
                if outbox.items.isEmpty { held = .zero }
                let start = ContinuousClock.now
                try kernel.process(&inbox, &outbox.items)
                let work = start.duration(to: .now)
                held += work
                if outbox.items.count >= handOverLimit {
                    try await flushFull(outbox)
                } else if sequencer == nil && held > TakeSize.slowItem && !outbox.items.isEmpty {
                    // Outputs that took long to make leave at once: a hand-over costs far less
                    // than the work they hold, and no output waits long for a batch to fill.
                    try await outbox.handOver(to: output)
                }
                return work
            } finish: {
                try kernel.finish(&outbox.items)
            }
        }
        if let last = segment.nodes.last, probe == nil || !last.body.carriesFailures,
           let kernel: AsyncChunkKernel<Input, Output> = KernelComposer.asyncKernel(segment.nodes, context: context, probe: probe) {
            // An asynchronous stage with a kernel built for its concrete types, after the
            // synchronous stages fused in front of it (if any).
            reader.port = kernel.receivePort
            outbox.sendPort = kernel.sendPort
            // Unordered or single-worker: each output goes straight to the next stage, through
            // the channel's send specialized for its element type. Ordered parallel: outputs
            // collect in the outbox and leave in turn.
            let handOver = AsyncHandOver(stop: slot.stop, direct: sequencer == nil ? output : nil, outbox: outbox, fullAt: segment.outboxLimit) {
                try await flushFull(outbox)
            }
            guard let probe else {
                return await loop(scope, slot, outbox, reader, &inbox, quickChunks: true, resume: resume) { inbox in
                    let start = ContinuousClock.now
                    try await kernel.process(&inbox, handOver)
                    return start.duration(to: .now)
                } finish: {
                    try await kernel.finish(handOver)
                }
            }
            // A measured run: the asynchronous stage's inputs, outputs, failures and busy time,
            // per chunk (the synchronous stages before it count their own inputs).
            let counters = probe.stages[segment.nodes.count - 1]
            return await loop(scope, slot, outbox, reader, &inbox, quickChunks: true, resume: resume) { inbox in
                let start = probe.startBusy()
                defer {
                    let (started, produced) = handOver.takeCounts()
                    counters.countInputs(started)
                    probe.countOutputs(produced)
                    probe.endBusy(since: start)
                }
                do {
                    try await kernel.process(&inbox, handOver)
                } catch {
                    probe.sawError(error, in: counters)
                    throw error
                }
                return start.duration(to: .now)
            } finish: {
                // A fused stage's remainder (a partial batch) through the asynchronous stage.
                try await kernel.finish(handOver)
                let counts = handOver.takeCounts()
                counters.countInputs(counts.started)
                probe.countOutputs(counts.produced)
            }
        }
        let sink: AsyncSink<Input> = SinkComposer.async(
            segment.nodes,
            tail: AsyncSink(
                push: { y in
                    outbox.items.append(y)
                    if outbox.items.count >= handOverLimit { try await flushFull(outbox) }
                },
                finish: {}),
            context: context, probe: probe)
        return await loop(scope, slot, outbox, reader, &inbox) { inbox in
            var work = Duration.zero
            for x in inbox {
                let busy = probe?.startBusy()
                let start = ContinuousClock.now
                try await sink.push(x)
                work += start.duration(to: .now)
                probe?.endBusy(since: busy)
                // An async body may suspend on the next item: hand this item's outputs over now,
                // so the next stage works on them meanwhile (stages run concurrently).
                if sequencer == nil && !outbox.items.isEmpty { try await outbox.handOver(to: output) }
            }
            return work
        } finish: {
            try await sink.finish()
        }
    }

    /// Outputs a worker collects before it hands them over: its plan's limit, or less while the
    /// output channel's slow start holds less (so a consumer that needs a few items does not make
    /// the worker fill a whole batch first). An ordered parallel segment keeps the plan's limit:
    /// its workers hand over whole chunks through the sequencer.
    private var handOverLimit: Int {
        if sequencer != nil { return segment.outboxLimit }
        return Swift.min(segment.outboxLimit, Swift.max(1, output.sendLimit))
    }

    /// The worker's loop, common to both forms: take a chunk, process it, hand it over.
    private func loop(
        _ scope: WorkerScope, _ slot: WorkerSlot, _ outbox: Outbox<Output>,
        _ reader: Reader, _ inbox: inout [Input], quickChunks: Bool = false, resume: Resume? = nil,
        process: (inout [Input]) async throws -> Duration,
        finish: () async throws -> Void
    ) async -> Ending {
        // A worker that said it comes back for more and leaves instead: the channel stops
        // counting on it.
        defer { reader.leave() }
        return await scope.withCompanions {
            await loopWithoutCompanions(scope, slot, outbox, reader, &inbox, quickChunks: quickChunks, resume: resume, process: process, finish: finish)
        }
    }

    private func loopWithoutCompanions(
        _ scope: WorkerScope, _ slot: WorkerSlot, _ outbox: Outbox<Output>,
        _ reader: Reader, _ inbox: inout [Input], quickChunks: Bool, resume: Resume?,
        process: (inout [Input]) async throws -> Duration,
        finish: () async throws -> Void
    ) async -> Ending {
        do {
            try await scope.start()
        } catch {
            return classify(bodyError: error, chunk: Int.min, slot)
        }
        var take = TakeSize(limit: segment.takeLimit)
        if let resume {
            // The rest of the chunk the interrupted work had in hand (it entered the segment
            // then): process it, then complete the chunk as usual.
            inbox = resume.remaining
            outbox.chunkStart = resume.chunkStart
            outbox.hasTurn = resume.hasTurn
            do {
                _ = try await process(&inbox)
            } catch {
                return classify(bodyError: error, chunk: resume.chunkStart, slot, inbox: inbox, chunkCount: resume.chunkCount, outbox)
            }
            do {
                try await completeChunk(outbox, count: resume.chunkCount)
            } catch {
                return .stopped
            }
        }
        while true {
            let first: Int?
            do {
                first = try await nextChunk(reader, &inbox, outbox, limit: take.current, share: !(quickChunks && take.itemsAreQuick))
            } catch {
                return classify(inputError: error)
            }
            guard let first else { break }
            guard control.enter(slot, chunk: first) else { return .stopped }
            outbox.chunkStart = first
            let count = inbox.count
            do {
                // The time the stages worked on the chunk, not counting waits for room downstream.
                let work = try await process(&inbox)
                take.update(items: count, elapsed: work)
            } catch {
                return classify(bodyError: error, chunk: first, slot, inbox: inbox, chunkCount: count, outbox)
            }
            do {
                try await completeChunk(outbox, count: inbox.count)
            } catch {
                return .stopped
            }
        }
        do {
            try await finish()
        } catch {
            // After the last chunk: a failure at the end of the input, behind every chunk.
            return classify(bodyError: error, chunk: Int.max, slot)
        }
        do {
            try await outbox.handOver(to: output)
        } catch {
            return .stopped
        }
        return .finished
    }

    private func classify(inputError error: any Error) -> Ending {
        error is CancellationError ? .stopped : .inputFailed(error)
    }

    /// A body error while processing the chunk starting at `chunk` (`inbox`: what the kernel left
    /// of it, `chunkCount` items in all; needed only to restart the work).
    private func classify(bodyError error: any Error, chunk: Int, _ slot: WorkerSlot,
                          inbox: [Input] = [], chunkCount: Int = 0, _ outbox: Outbox<Output>? = nil) -> Ending {
        if error is StageCompleted { return .completed }
        if let restart = error as? WorkRestart {
            // (Stopped meanwhile: `workCancellable` ends the work, and reports the item.)
            return .restart(Resume(work: ResumedWork(restart), remaining: inbox, chunkStart: chunk,
                                   chunkCount: chunkCount, hasTurn: outbox?.hasTurn ?? false))
        }
        guard error is CancellationError else { return .failed(error, chunk: chunk) }
        return slot.stop.isSet || run.isStopped ? .stopped : .bodyCancelled
    }

    /// Hands on what the ending leaves to hand on (see `SegmentControl`).
    private func conclude(_ ending: Ending, _ slot: WorkerSlot, _ outbox: Outbox<Output>) async {
        switch ending {
        case .finished:
            return
        case .inputFailed(let error):
            control.inputFailed(error)
            try? await outbox.handOver(to: output)
        case .failed(let error, let chunk):
            switch control.fail(slot, error, chunk: chunk) {
            case .dropEverything:
                return
            case .deliverPrefix:
                if let sequencer, chunk != Int.min, chunk != Int.max, !outbox.hasTurn {
                    do { try await sequencer.waitForTurn(start: chunk) } catch { return }
                }
                try? await outbox.handOver(to: output)
            }
        case .bodyCancelled:
            run.stop()
        case .completed:
            control.complete()
            try? await outbox.handOver(to: output)
        case .restart:
            preconditionFailure("a restart is handled by the worker's work loop")
        case .stopped:
            // Stopped by its own segment's failure in unordered mode: what it completed goes out.
            if slot.keepsCompleted.load(ordering: .relaxed) && !run.isStopped {
                try? await outbox.handOver(to: output)
            }
        }
    }

    /// Takes the next chunk into `inbox` (emptied first). Before waiting for input, hands over what
    /// the outbox holds: a batch leaves as soon as the worker would otherwise wait.
    private func nextChunk(_ reader: Reader, _ inbox: inout [Input], _ outbox: Outbox<Output>, limit: Int, share: Bool) async throws -> Int? {
        if let port = reader.port { port.clear(&inbox) } else { inbox.removeAll(keepingCapacity: true) }
        if let sequencer {
            if let port = outbox.sendPort { try await port.enterWindow(sequencer) } else { try await sequencer.enterWindow() }
        }
        // A fused source is read no further ahead than the output channel takes now (its slow
        // start): what leaves the source follows what the next stage asks for.
        var limit = reader.channel == nil ? Swift.min(limit, handOverLimit) : limit
        // The workers of a parallel async stage each take a share of what is queued: several
        // items when many wait (fewer hand-overs), one when few do (an item never waits in one
        // worker's chunk while another worker idles). Not when items are quick: waking another
        // worker would cost more than the items, so a running worker takes what is there (up to
        // `quickChunk`). Only for stages run by an async kernel (`map`, `tryMap`, with retry or
        // timeout): a rate limit or middleware keeps items spread over the workers.
        if let channel = reader.channel, segment.workers > 1, !segment.isSynchronous {
            limit = share ? Swift.min(limit, Swift.max(1, channel.queuedHint / segment.workers)) : Swift.min(limit, TakeSize.quickChunk)
        }
        // In an ordered one, a chunk is at most the worker's part of the reorder window, so the
        // items completed behind a slow one stay near the window (the window plus, at most, a
        // chunk in each other worker's hand).
        if sequencer != nil, segment.window > 0, !segment.isSynchronous {
            limit = Swift.min(limit, Swift.max(1, segment.window / segment.workers))
        }
        // A worker of a parallel async stage whose items are quick comes back for more as soon as
        // it is done with these: meanwhile, items sent one at a time wake no other worker (unless
        // they pile up), since this one takes them sooner.
        let comesBack = !share && segment.workers > 1 && !segment.isSynchronous
        switch try reader.tryRead(into: &inbox, limit: limit, comesBack: comesBack) {
        case .items(let first, _): return first
        case .end: return nil
        case .empty:
            // About to wait for input: hand everything over and wake the next stage now.
            if sequencer == nil { try await outbox.handOver(to: output) }
            if let sendPort = outbox.sendPort { sendPort.poke(output) } else { output.poke() }
            return try await reader.read(into: &inbox, limit: limit, comesBack: comesBack)
        }
    }

    /// The outbox is full in the middle of a chunk: hand it over (after waiting for the turn).
    private func flushFull(_ outbox: Outbox<Output>) async throws {
        if let sequencer, !outbox.hasTurn {
            try await sequencer.waitForTurn(start: outbox.chunkStart)
            outbox.hasTurn = true
        }
        try await outbox.handOver(to: output, urgent: false)
    }

    /// Hands pending outputs over now if that needs no waiting for the turn (see `flushOutputs`).
    private func flushIfInTurn(_ outbox: Outbox<Output>) async throws {
        guard !outbox.items.isEmpty else { return }
        if let sequencer, !outbox.hasTurn {
            guard sequencer.hasTurn(start: outbox.chunkStart) else { return }
            outbox.hasTurn = true
        }
        try await outbox.handOver(to: output)
    }

    private func completeChunk(_ outbox: Outbox<Output>, count: Int) async throws {
        guard let sequencer else { return }
        if let port = outbox.sendPort {
            try await port.complete(sequencer, outbox.chunkStart, outbox.chunkStart + count, &outbox.items, outbox.hasTurn, output)
        } else {
            try await sequencer.complete(
                start: outbox.chunkStart, end: outbox.chunkStart + count,
                items: &outbox.items, hasTurn: outbox.hasTurn, output: output)
        }
        outbox.hasTurn = false
    }

    /// Reads from a channel or straight from a synchronous source.
    ///
    /// A class: the worker's generic code reaches it through its object, so there is no runtime
    /// look-up of a nested generic type's metadata per chunk (callgrind: about 330 instructions
    /// a time, a chunk per item in a parallel stage of quick items).
    final class Reader {
        var channel: Channel<Input>?
        /// The channel's receives compiled for `Input` (the segment's kernel's), if any.
        var port: ReceivePort<Input>?
        var read: ((inout [Input], Int) throws -> Bool)?
        let stop: StopSignal
        var exhausted = false
        /// A source failure met after some items of a chunk: thrown at the next read.
        var pendingFailure: (any Error)?
        /// Items read so far (from the source; a channel counts its own).
        var sequence = 0
        /// The last read from the channel said this worker comes back for more (see
        /// `Channel.tryReceiveSpecialized`): the next read is its return.
        var returning = false

        init(_ input: WorkerInput<Input>, stop: StopSignal) async throws {
            self.stop = stop
            switch input {
            case .channel(let c):
                channel = c
            case .source(let source):
                if stop.isSet { throw CancellationError() }
                let cursor: SourceCursor<Input>
                do {
                    cursor = try await source.openErased(as: Input.self, stop: stop)
                } catch {
                    throw StageFailure.wrap(error, stage: "source", item: nil)
                }
                guard case .sync(let r) = cursor else { preconditionFailure("a fused source must be synchronous") }
                read = r
            }
        }

        /// The worker's loop ends: if it said it would come back for more, it will not.
        func leave() {
            if returning, let channel { channel.receiverLeft() }
            returning = false
        }

        /// `comesBack`: this worker reads again as soon as it is done with the items it takes (a
        /// worker of a parallel stage whose items are quick; see `Channel.tryReceiveSpecialized`).
        func tryRead(into buffer: inout [Input], limit: Int, comesBack: Bool = false) throws -> ReceiveResult {
            if let channel {
                let wasReturning = returning
                returning = false
                let result: ReceiveResult
                if let port {
                    result = try port.tryReceive(channel, &buffer, limit, wasReturning, comesBack)
                } else if wasReturning || comesBack {
                    result = try channel.tryReceiveSpecialized(into: &buffer, limit: limit, returning: wasReturning, comesBack: comesBack)
                } else {
                    result = try channel.tryReceive(into: &buffer, limit: limit)
                }
                if comesBack, case .items = result { returning = true }
                return result
            }
            if let failure = pendingFailure { throw failure }
            if exhausted { return .end }
            // The source is never read once the worker must stop.
            if stop.isSet { throw CancellationError() }
            let before = buffer.count
            do {
                exhausted = !(try read!(&buffer, limit))
            } catch {
                pendingFailure = StageFailure.wrap(error, stage: "source", item: nil)
                if buffer.count == before { throw pendingFailure! }
            }
            let n = buffer.count - before
            if n == 0 {
                // A reader that stopped early is not the end of the source.
                if stop.isSet { throw CancellationError() }
                return .end
            }
            defer { sequence += n }
            return .items(first: sequence, count: n)
        }

        func read(into buffer: inout [Input], limit: Int, comesBack: Bool = false) async throws -> Int? {
            if let channel {
                let wasReturning = returning
                returning = false
                let first: Int?
                if let port {
                    first = try await port.receive(channel, &buffer, limit, wasReturning, comesBack)
                } else {
                    first = try await channel.receive(into: &buffer, limit: limit, returning: wasReturning, comesBack: comesBack)
                }
                if comesBack, first != nil { returning = true }
                return first
            }
            guard case .items(let first, _) = try tryRead(into: &buffer, limit: limit) else { return nil }
            return first
        }
    }
}
