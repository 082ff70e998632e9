// A synchronous stage's work on a whole chunk at a time: the only synchronous form of a stage.

/// Processes a chunk of inputs in one call, appending the outputs.
///
/// Kernels are built where a stage's element types are concrete (in `@inlinable` constructors), so
/// their per-item loops are specialized: no generic dispatch or metadata lookup per item. The
/// executor composes the kernels of a fused segment once per worker; between kernels, only
/// per-chunk work is generic.
///
/// A kernel that throws has appended the outputs of every item before the failing one: a failure
/// never takes the items before it.
@usableFromInline
package struct ChunkKernel<Input: Sendable, Output: Sendable> {
    /// Consumes every item of `input` (the caller empties it afterwards), appending to `output`.
    @usableFromInline package var process: (inout [Input], inout [Output]) throws -> Void
    /// The input has ended: append what is left (e.g. a partial batch).
    @usableFromInline package var finish: (inout [Output]) throws -> Void
    /// The worker's receives from its input channel, compiled for `Input` where the kernel was
    /// built (for a fused segment: its first stage's).
    @usableFromInline package var receivePort: ReceivePort<Input>
    /// The worker's hand-over to its output channel, compiled for `Output` where the kernel was
    /// built (for a fused segment: its last stage's).
    @usableFromInline package var sendPort: SendPort<Output>

    @inlinable
    package init(process: @escaping (inout [Input], inout [Output]) throws -> Void,
                 finish: @escaping (inout [Output]) throws -> Void = { _ in }) {
        self.process = process
        self.finish = finish
        self.receivePort = ReceivePort()
        self.sendPort = SendPort()
    }

    /// A kernel with the given ports (composition keeps the ports of the kernels it joins).
    init(process: @escaping (inout [Input], inout [Output]) throws -> Void,
         finish: @escaping (inout [Output]) throws -> Void,
         receivePort: ReceivePort<Input>, sendPort: SendPort<Output>) {
        self.process = process
        self.finish = finish
        self.receivePort = receivePort
        self.sendPort = sendPort
    }

    /// `self` then `next`, with one reused intermediate buffer. When `self` throws, the outputs it
    /// produced before the failing item still go through `next` before the error propagates (an
    /// error `next` throws on one of them is earlier in input order, so it wins). When `self`
    /// throws `StageCompleted`, `next` is also finished before it propagates.
    package func then<Next>(_ next: ChunkKernel<Output, Next>) -> ChunkKernel<Input, Next> {
        let middle = Box([Output]())
        let first = self
        return ChunkKernel<Input, Next>(
            process: { input, output in
                defer { middle.value.removeAll(keepingCapacity: true) }
                do {
                    try first.process(&input, &middle.value)
                } catch {
                    try next.process(&middle.value, &output)
                    // `first` needs no more input: the stages after it end here (e.g. a batch
                    // flushes its partial array), since the segment will not call `finish`.
                    if error is StageCompleted { try next.finish(&output) }
                    throw error
                }
                try next.process(&middle.value, &output)
            },
            finish: { output in
                defer { middle.value.removeAll(keepingCapacity: true) }
                try first.finish(&middle.value)
                try next.process(&middle.value, &output)
                try next.finish(&output)
            },
            receivePort: receivePort, sendPort: next.sendPort)
    }

    /// `self`, counting into a measured run's instruments once per chunk.
    func metered(_ counters: StageCounters, probe: WorkerProbe, countsFailures: Bool) -> ChunkKernel {
        let base = self
        return ChunkKernel(
            process: { input, output in
                let count = input.count
                let before = output.count
                let passing = countsFailures ? carriedFailures(input[...]) : 0
                do {
                    try base.process(&input, &output)
                } catch {
                    // `input` holds what the stage did not take (see `consume`).
                    counters.countInputs(count - input.count)
                    probe.sawError(error, in: counters)
                    throw error
                }
                counters.countInputs(count)
                if countsFailures {
                    let produced = carriedFailures(output[before...]) - passing
                    if produced > 0 { counters.countFailures(produced) }
                }
            },
            finish: base.finish, receivePort: receivePort, sendPort: sendPort)
    }
}

/// Calls `body` on each item of a kernel's input, in order, checking `stop` before each. If a
/// call throws, `input` is left holding only the items after the failing one: a measured run
/// counts exactly the items that entered the stage.
@inlinable
package func consume<Element>(_ input: inout [Element], stop: StopSignal, _ body: (Element) throws -> Void) throws {
    var i = 0
    do {
        while i < input.count {
            if stop.isSet { throw CancellationError() }
            try body(input[i])
            i += 1
        }
    } catch {
        input.removeFirst(Swift.min(i + 1, input.count))
        throw error
    }
}

/// Railway failures among `items` (only called for measured railway stages).
private func carriedFailures<C: Collection>(_ items: C) -> Int {
    items.reduce(0) { ($1 as? any CarriesFailure)?.carriedFailure != nil ? $0 + 1 : $0 }
}

extension StageBody {
    /// This stage's kernel (counting, in a measured run), erased as `Any`: one cast per worker, at
    /// plan time. `last`: it is the segment's last stage, whose outputs the probe counts.
    func erasedKernel(context: StageContext, probe: WorkerProbe?, index: Int, last: Bool) -> Any? {
        guard var kernel = makeKernel(context: context) else { return nil }
        if let probe {
            kernel = kernel.metered(probe.stages[index], probe: probe, countsFailures: Output.self is any CarriesFailure.Type)
            if last { kernel = kernel.countingOutputs(probe) }
        }
        return kernel
    }

    /// This stage's kernel followed by `rest`, an asynchronous kernel (`AsyncChunkKernel<Output,
    /// Final>` erased as `Any`): a synchronous stage fused in front of an asynchronous one.
    func erasedKernel<Final: Sendable>(beforeAsync rest: Any, final: Final.Type, context: StageContext, probe: WorkerProbe?, index: Int) -> Any? {
        guard let mine = erasedKernel(context: context, probe: probe, index: index, last: false) as? ChunkKernel<Input, Output> else { return nil }
        return mine.then(rest as! AsyncChunkKernel<Output, Final>)
    }

    /// This stage's kernel followed by `rest` (a `ChunkKernel<Output, Final>` erased as `Any`).
    func erasedKernel<Final: Sendable>(before rest: Any, final: Final.Type, context: StageContext, probe: WorkerProbe?, index: Int) -> Any? {
        guard let mine = erasedKernel(context: context, probe: probe, index: index, last: false) as? ChunkKernel<Input, Output> else { return nil }
        return mine.then(rest as! ChunkKernel<Output, Final>)
    }
}

/// Composes the kernels of a chain of nodes.
package enum KernelComposer {
    /// The composed kernel of `nodes` (`nil` if one of them has none). In a measured run each
    /// stage's kernel counts its chunk, and the last stage's outputs are counted.
    package static func kernel<In, Out>(_ nodes: [StageNode], context: StageContext, probe: WorkerProbe? = nil, as: (In.Type, Out.Type) = (In.self, Out.self)) -> ChunkKernel<In, Out>? {
        guard let last = nodes.last,
              var kernel = last.body.erasedKernel(context: context.child(last), probe: probe, index: nodes.count - 1, last: true)
        else { return nil }
        for (i, node) in nodes.enumerated().dropLast().reversed() {
            guard let k = node.body.erasedKernel(before: kernel, final: Out.self, context: context.child(node), probe: probe, index: i) else { return nil }
            kernel = k
        }
        return kernel as? ChunkKernel<In, Out>
    }

    /// The kernel of a segment whose last stage is asynchronous (`nil` if it has none): the
    /// synchronous stages before it (see `Plan`) run on each chunk first, then its kernel. In a
    /// measured run the synchronous stages count their chunks; the worker counts the last one's.
    package static func asyncKernel<In, Out>(_ nodes: [StageNode], context: StageContext, probe: WorkerProbe? = nil, as: (In.Type, Out.Type) = (In.self, Out.self)) -> AsyncChunkKernel<In, Out>? {
        guard let last = nodes.last,
              var kernel = last.body.erasedAsyncKernel(context: context.child(last, meter: probe?.stages[nodes.count - 1]))
        else { return nil }
        for (i, node) in nodes.enumerated().dropLast().reversed() {
            guard let k = node.body.erasedKernel(beforeAsync: kernel, final: Out.self, context: context.child(node), probe: probe, index: i) else { return nil }
            kernel = k
        }
        return kernel as? AsyncChunkKernel<In, Out>
    }
}

extension ChunkKernel {
    /// `self`, counting its outputs as the segment's outputs.
    func countingOutputs(_ probe: WorkerProbe) -> ChunkKernel {
        let base = self
        return ChunkKernel(
            process: { input, output in
                let before = output.count
                defer { probe.countOutputs(output.count - before) }
                try base.process(&input, &output)
            },
            finish: { output in
                let before = output.count
                defer { probe.countOutputs(output.count - before) }
                try base.finish(&output)
            },
            receivePort: receivePort, sendPort: sendPort)
    }
}

extension ChunkKernel {
    /// `self` then the asynchronous `next`, with one reused intermediate buffer: the chunk goes
    /// through `self` at once, then through `next` item by item. As in `then`, the outputs made
    /// before a failing item go through `next` before the error propagates, and the input's end
    /// (`finish`) flushes what `self` holds (e.g. a partial batch) through `next`.
    package func then<Next>(_ next: AsyncChunkKernel<Output, Next>) -> AsyncChunkKernel<Input, Next> {
        // Unchecked transfer, proven: a kernel belongs to one worker (the executor builds one per
        // worker), which calls `process` and `finish` one at a time and awaits each; so the
        // buffer and `self`'s closures (which may keep a stage's state, e.g. a batch) are never
        // used by two tasks at once.
        let state = UnsafeTransfer((first: self, middle: Box([Output]())))
        return AsyncChunkKernel<Input, Next>(
            process: { input, handOver in
                let (first, middle) = state.value
                defer { middle.value.removeAll(keepingCapacity: true) }
                do {
                    try first.process(&input, &middle.value)
                } catch {
                    try await next.process(&middle.value, handOver)
                    if error is StageCompleted { try await next.finish(handOver) }
                    throw error
                }
                try await next.process(&middle.value, handOver)
            },
            finish: { handOver in
                let (first, middle) = state.value
                defer { middle.value.removeAll(keepingCapacity: true) }
                try first.finish(&middle.value)
                try await next.process(&middle.value, handOver)
                try await next.finish(handOver)
            },
            receivePort: receivePort, sendPort: next.sendPort)
    }
}
