// An asynchronous stage's per-item loop, built where its element types are concrete, and the
// non-generic pacing that decides when its outputs are handed over.

/// Runs an asynchronous stage over a chunk of input, one item at a time.
///
/// Built by the stage's `@inlinable` constructor (`op.map` with an `async` closure), where the
/// element types are concrete: the loop, the call to the user's closure and the append of each
/// output are compiled for those types, with no generic look-ups per item. After each output,
/// `AsyncHandOver` asks its pacer (plain, non-generic code) whether to hand the collected outputs
/// over now; the hand-over itself runs once per batch.
@usableFromInline
package struct AsyncChunkKernel<Input: Sendable, Output: Sendable>: Sendable {
    /// Processes every item of the chunk (the caller empties it afterwards), giving each output
    /// to the hand-over. An error leaves the outputs of the items before it in the outbox.
    @usableFromInline package let process: @Sendable (inout [Input], AsyncHandOver<Output>) async throws -> Void
    /// The worker's receives from its input channel, compiled for `Input`.
    @usableFromInline package let receivePort: ReceivePort<Input>
    /// The worker's batch hand-over (an ordered stage's outbox), compiled for `Output`.
    @usableFromInline package let sendPort: SendPort<Output>

    /// The input has ended: hand over what is left (a fused synchronous stage's partial batch).
    @usableFromInline package let finish: @Sendable (AsyncHandOver<Output>) async throws -> Void

    @inlinable
    package init(process: @escaping @Sendable (inout [Input], AsyncHandOver<Output>) async throws -> Void) {
        self.process = process
        self.finish = { _ in }
        self.receivePort = ReceivePort()
        self.sendPort = SendPort()
    }

    /// A kernel with the given ports and end (composition keeps the ports of the kernels it joins).
    init(process: @escaping @Sendable (inout [Input], AsyncHandOver<Output>) async throws -> Void,
         finish: @escaping @Sendable (AsyncHandOver<Output>) async throws -> Void,
         receivePort: ReceivePort<Input>, sendPort: SendPort<Output>) {
        self.process = process
        self.finish = finish
        self.receivePort = receivePort
        self.sendPort = sendPort
    }
}

/// Where an asynchronous kernel puts its outputs.
///
/// In a single-worker or unordered stage each output goes to the next stage at once, through the
/// channel's send specialized for the element type (`Channel.sendOne`): an async body may
/// suspend for long on the next item, and an output held meanwhile would keep the next stage
/// idle (stages run concurrently). In an ordered parallel stage outputs collect in the worker's
/// outbox and leave in turn, a whole chunk or a full outbox at a time.
@usableFromInline
package final class AsyncHandOver<Output: Sendable> {
    @usableFromInline let stop: StopSignal
    /// The output channel, when outputs go straight to it.
    @usableFromInline let direct: Channel<Output>?
    @usableFromInline let outbox: Outbox<Output>
    @usableFromInline let fullAt: Int
    /// Hands a full outbox over, in turn.
    @usableFromInline let flushFull: () async throws -> Void

    package init(stop: StopSignal, direct: Channel<Output>?, outbox: Outbox<Output>, fullAt: Int, flushFull: @escaping () async throws -> Void) {
        self.stop = stop
        self.direct = direct
        self.outbox = outbox
        self.fullAt = Swift.max(1, fullAt)
        self.flushFull = flushFull
    }

    /// The items started and outputs made since the last call.
    func takeCounts() -> (started: Int, produced: Int) {
        defer { started = 0; produced = 0 }
        return (started, produced)
    }

    /// Items the kernel started, and outputs it made, since the worker last looked (a measured
    /// run counts them per chunk).
    ///
    /// Unchecked: only the worker's task touches them (the kernel while it runs, the worker
    /// between chunks), and no access is held across an `await`, so two accesses never overlap.
    /// The checked accesses cost a runtime call each, about 300 instructions per item in W6's
    /// three stages (callgrind).
    @exclusivity(unchecked) @usableFromInline var started = 0
    @exclusivity(unchecked) @usableFromInline var produced = 0

    /// Call before each item: throws `CancellationError` once the worker must stop, so no item
    /// starts after that.
    @inlinable
    package func beginItem() throws {
        if stop.isSet { throw CancellationError() }
        started &+= 1
    }

    /// One item's output.
    ///
    /// Always inlined: a call of its own is an async call per item, with a frame and an executor
    /// check (callgrind, W8 observe, where the kernel is larger and the optimizer kept the call).
    @inlinable @inline(__always)
    package func append(_ output: Output) async throws {
        produced &+= 1
        if direct != nil {
            if direct.unsafelyUnwrapped.trySendOne(output) { return }
            try await direct.unsafelyUnwrapped.sendOne(output)
            return
        }
        outbox.items.append(output)
        if outbox.items.count >= fullAt { try await flushFull() }
    }
}
