// One worker of one segment: takes chunks of input, pushes them through the segment's stages,
// and hands the outputs over in batches (in turn, when the segment is ordered and parallel).

/// Where a worker's input comes from.
package enum WorkerInput<Element: Sendable>: Sendable {
    case channel(Channel<Element>)
    /// The source, read inside this (single) worker.
    case source(any SourceBody)
}

/// The outputs a worker has produced but not handed over yet.
final class Outbox<Element> {
    var items: [Element] = []
    /// The chunk being processed (its first sequence number), and whether it holds the turn.
    var chunkStart = 0
    var hasTurn = false
}

struct SegmentWorker<Input: Sendable, Output: Sendable> {
    let segment: Plan.Segment
    let input: WorkerInput<Input>
    let output: Channel<Output>
    let sequencer: Sequencer<Output>?
    let run: RunState
    /// Set when the run is measured: each worker takes a probe from it.
    var meter: SegmentMeter? = nil

    /// Runs until the input ends; reports its own failure to the run instead of throwing.
    func runReportingFailure() async {
        do {
            try await work()
            output.finish()
        } catch {
            run.fail(error)
        }
    }

    private func work() async throws {
        let scope = WorkerScope()
        do {
            try await work(scope)
        } catch {
            await scope.exit()
            throw error
        }
        await scope.exit()
    }

    private func work(_ scope: WorkerScope) async throws {
        var reader = try await Reader(input)
        let outbox = Outbox<Output>()
        scope.flushOutputs = { try await flushIfInTurn(outbox) }
        outbox.items.reserveCapacity(segment.outboxLimit)
        var inbox: [Input] = []
        inbox.reserveCapacity(segment.takeLimit)
        let limit = segment.outboxLimit
        let probe = meter?.makeProbe()

        if segment.isSynchronous, probe == nil, let kernel: ChunkKernel<Input, Output> = SinkComposer.kernel(segment.nodes, run: run, scope: scope) {
            // The fast path: every stage has a specialized chunk kernel.
            try await scope.start()
            while let first = try await nextChunk(&reader, &inbox, outbox) {
                outbox.chunkStart = first
                if run.isStopped { throw CancellationError() }
                try kernel.process(&inbox, &outbox.items)
                if outbox.items.count >= limit { try await flushFull(outbox) }
                try await completeChunk(outbox, count: inbox.count)
            }
            try kernel.finish(&outbox.items)
        } else if segment.isSynchronous {
            let sink: SyncSink<Input> = SinkComposer.sync(
                segment.nodes, tail: SyncSink(push: { outbox.items.append($0) }, finish: {}), run: run, scope: scope, probe: probe)
            try await scope.start()
            while let first = try await nextChunk(&reader, &inbox, outbox) {
                outbox.chunkStart = first
                let busy = probe?.startBusy()
                for x in inbox {
                    if run.isStopped { throw CancellationError() }
                    try sink.push(x)
                    if outbox.items.count >= limit { try await flushFull(outbox) }
                }
                probe?.endBusy(since: busy)
                try await completeChunk(outbox, count: inbox.count)
            }
            try sink.finish()
        } else {
            let sink: AsyncSink<Input> = SinkComposer.async(
                segment.nodes,
                tail: AsyncSink(
                    push: { y in
                        outbox.items.append(y)
                        if outbox.items.count >= limit { try await flushFull(outbox) }
                    },
                    finish: {}),
                run: run, scope: scope, probe: probe)
            try await scope.start()
            while let first = try await nextChunk(&reader, &inbox, outbox) {
                outbox.chunkStart = first
                for x in inbox {
                    if run.isStopped { throw CancellationError() }
                    let busy = probe?.startBusy()
                    try await sink.push(x)
                    probe?.endBusy(since: busy)
                    // An async body may suspend on the next item: hand this item's outputs over now,
                    // so the next stage works on them meanwhile (DESIGN §3.4).
                    if sequencer == nil && !outbox.items.isEmpty { try await output.send(&outbox.items) }
                }
                try await completeChunk(outbox, count: inbox.count)
            }
            try await sink.finish()
        }
        try await output.send(&outbox.items)
    }

    /// Takes the next chunk into `inbox` (emptied first). Before waiting for input, hands over what
    /// the outbox holds: a batch leaves as soon as the worker would otherwise wait.
    private func nextChunk(_ reader: inout Reader, _ inbox: inout [Input], _ outbox: Outbox<Output>) async throws -> Int? {
        inbox.removeAll(keepingCapacity: true)
        if let sequencer { try await sequencer.enterWindow() }
        switch try reader.tryRead(into: &inbox, limit: segment.takeLimit) {
        case .items(let first, _): return first
        case .end: return nil
        case .empty:
            // About to wait for input: hand everything over and wake the next stage now.
            if sequencer == nil { try await output.send(&outbox.items) }
            output.poke()
            return try await reader.read(into: &inbox, limit: segment.takeLimit)
        }
    }

    /// The outbox is full in the middle of a chunk: hand it over (after waiting for the turn).
    private func flushFull(_ outbox: Outbox<Output>) async throws {
        if let sequencer, !outbox.hasTurn {
            try await sequencer.waitForTurn(start: outbox.chunkStart)
            outbox.hasTurn = true
        }
        try await output.send(&outbox.items, urgent: false)
    }

    /// Hands pending outputs over now if that needs no waiting for the turn (see `flushOutputs`).
    private func flushIfInTurn(_ outbox: Outbox<Output>) async throws {
        guard !outbox.items.isEmpty else { return }
        if let sequencer, !outbox.hasTurn {
            guard sequencer.hasTurn(start: outbox.chunkStart) else { return }
            outbox.hasTurn = true
        }
        try await output.send(&outbox.items)
    }

    private func completeChunk(_ outbox: Outbox<Output>, count: Int) async throws {
        guard let sequencer else { return }
        try await sequencer.complete(
            start: outbox.chunkStart, end: outbox.chunkStart + count,
            items: &outbox.items, hasTurn: outbox.hasTurn, output: output)
        outbox.hasTurn = false
    }

    /// Reads from a channel or straight from a synchronous source.
    struct Reader {
        var channel: Channel<Input>?
        var read: ((inout [Input], Int) throws -> Bool)?
        var exhausted = false
        var sequence = 0

        init(_ input: WorkerInput<Input>) async throws {
            switch input {
            case .channel(let c):
                channel = c
            case .source(let source):
                let cursor: SourceCursor<Input>
                do {
                    cursor = try await source.openErased(as: Input.self)
                } catch {
                    throw StageFailure.wrap(error, stage: "source", item: nil)
                }
                guard case .sync(let r) = cursor else { preconditionFailure("a fused source must be synchronous") }
                read = r
            }
        }

        mutating func tryRead(into buffer: inout [Input], limit: Int) throws -> ReceiveResult {
            if let channel { return try channel.tryReceive(into: &buffer, limit: limit) }
            if exhausted { return .end }
            let before = buffer.count
            do {
                exhausted = !(try read!(&buffer, limit))
            } catch {
                throw StageFailure.wrap(error, stage: "source", item: nil)
            }
            let n = buffer.count - before
            if n == 0 { return .end }
            defer { sequence += n }
            return .items(first: sequence, count: n)
        }

        mutating func read(into buffer: inout [Input], limit: Int) async throws -> Int? {
            if let channel { return try await channel.receive(into: &buffer, limit: limit) }
            guard case .items(let first, _) = try tryRead(into: &buffer, limit: limit) else { return nil }
            return first
        }
    }
}
