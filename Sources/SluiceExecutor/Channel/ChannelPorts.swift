// A channel's operations compiled for one element type, built where that type is concrete.

/// A channel's receives, compiled for `Element`.
///
/// The executor learns element types at run time, so its own calls into a channel run the
/// channel's generic code (a runtime metadata look-up per generic operation, several per batch).
/// A port is built by a stage's `@inlinable` constructor, in the caller's module, where the
/// element type is concrete: through it, a worker's receive takes the lock for a few
/// instructions. Behaviour is the channel's own (`tryReceiveSpecialized`, `receive`).
@usableFromInline
package struct ReceivePort<Element: Sendable>: Sendable {
    /// Takes up to `limit` queued items without waiting (`Channel.tryReceiveSpecialized`; the
    /// flags: `returning`, `comesBack`).
    @usableFromInline package let tryReceive: @Sendable (Channel<Element>, inout [Element], Int, Bool, Bool) throws -> ReceiveResult
    /// Takes up to `limit` items, waiting for one (`Channel.receive`; the flags as above).
    @usableFromInline package let receive: @Sendable (Channel<Element>, inout [Element], Int, Bool, Bool) async throws -> Int?
    /// Empties a buffer, keeping its capacity. (`removeAll(keepingCapacity:)` compiled for
    /// `Element`: the executor's own call runs the standard library's generic code, about 1,500
    /// instructions a time, once per chunk.)
    @usableFromInline package let clear: @Sendable (inout [Element]) -> Void

    @inlinable
    package init() {
        tryReceive = { channel, buffer, limit, returning, comesBack in
            try channel.tryReceiveSpecialized(into: &buffer, limit: limit, returning: returning, comesBack: comesBack)
        }
        receive = { channel, buffer, limit, returning, comesBack in
            try await channel.receive(into: &buffer, limit: limit, returning: returning, comesBack: comesBack)
        }
        clear = { buffer in buffer.removeAll(keepingCapacity: true) }
    }
}

/// A channel's batch send, compiled for `Element` (see `ReceivePort`): `Channel.send`.
@usableFromInline
package struct SendPort<Element: Sendable>: Sendable {
    /// Sends the whole batch, in order, emptying it; `urgent` as in `Channel.send`.
    @usableFromInline package let send: @Sendable (Channel<Element>, inout [Element], Bool) async throws -> Void
    /// Wakes receivers for what is queued (`Channel.poke`), before the worker waits for input.
    @usableFromInline package let poke: @Sendable (Channel<Element>) -> Void
    /// An ordered parallel stage's per-chunk steps, through its sequencer: waiting for room in
    /// the reorder window (`Sequencer.enterWindow`), and handing a chunk's outputs over in turn
    /// (`Sequencer.complete`).
    @usableFromInline package let enterWindow: @Sendable (Sequencer<Element>) async throws -> Void
    @usableFromInline package let complete: @Sendable (Sequencer<Element>, _ start: Int, _ end: Int, inout [Element], _ hasTurn: Bool, Channel<Element>) async throws -> Void

    @inlinable
    package init() {
        send = { channel, batch, urgent in try await channel.send(&batch, urgent: urgent) }
        poke = { channel in channel.poke() }
        enterWindow = { sequencer in try await sequencer.enterWindow() }
        complete = { sequencer, start, end, items, hasTurn, output in
            try await sequencer.complete(start: start, end: end, items: &items, hasTurn: hasTurn, output: output)
        }
    }
}
