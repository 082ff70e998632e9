// A flow's stages, rebuilt for an acknowledged pipeline: each stage runs its own body on the
// values and hands each output the lineage of the inputs it came from.
import SluiceExecutor

extension StageKind {
    /// True when an output may come from earlier inputs than the current one (a batch, a
    /// debounce): an input that produced nothing is held until an output carries it. Otherwise an
    /// input that produced nothing was dropped, and is done at once.
    var mayHoldInputs: Bool {
        switch self {
        case .map, .filter, .compactMap, .flatMap, .forEach, .scan, .prefix, .dropFirst, .drop, .distinct,
             .tryMap, .tryFlatMap, .tryFilter, .tryForEach, .thenMap, .thenFlatMap, .thenFilter, .thenForEach,
             .mapFailure, .recover, .successes, .failures:
            false
        case .batch, .debounce, .buffer, .group, .broadcast, .route, .partitioned, .expand:
            true
        }
    }

    /// Exactly one output per input, in order: the output takes over its input's lineage, and a
    /// chunk goes through the stage's kernel at once.
    var isOneToOne: Bool {
        switch self {
        case .map, .forEach, .scan, .tryMap, .thenMap, .mapFailure: true
        default: false
        }
    }

    /// Shapes whose bodies move items between workers of their own: not (yet) tracked.
    var isUntrackedShape: Bool {
        switch self {
        case .expand: true
        default: false
        }
    }
}

enum Tracking {
    /// `nodes`, rebuilt to carry lineages. A shape that cannot be tracked is rejected here, where
    /// the flow is applied, naming the stage.
    static func nodes(_ nodes: [StageNode]) -> [StageNode] {
        nodes.map { node in
            require(!node.kind.isUntrackedShape && !node.allDescendants.contains(where: \.kind.isUntrackedShape),
                    "stage '\(node.name)': an acknowledged pipeline cannot contain \(node.allDescendants.first(where: \.kind.isUntrackedShape)?.kind.rawValue ?? node.kind.rawValue) (expand stages are not tracked yet)")
            return node.body.trackedNode(node)
        }
    }
}

extension StageNode {
    /// Every node inside this one, at any depth.
    var allDescendants: [StageNode] { children.flatMap { [$0] + $0.allDescendants } }

    /// True when this stage, or one inside it, may hold inputs back (see `mayHoldInputs`).
    var mayHoldInputs: Bool {
        if kind == .group || !children.isEmpty { return children.contains(where: \.mayHoldInputs) }
        return kind.mayHoldInputs
    }
}

extension StageBody {
    /// `node` with this body rebuilt on tracked values.
    func trackedNode(_ node: StageNode) -> StageNode {
        var tracked = node
        if let group = self as? GroupBody<Input, Output> {
            tracked.body = GroupBody<Tracked<Input>, Tracked<Output>>(nodes: Tracking.nodes(group.nodes))
        } else if let branching = self as? BranchesBody<Input, Output> {
            tracked.body = TrackedBranchesBody(branching)
        } else if let keyed = self as? any TrackableBody {
            tracked.body = keyed.trackedBody()
        } else if let timed = self as? any TimedStageBody {
            tracked.body = timed.trackedTimedBody(aggregates: node.kind == .batch)
        } else {
            tracked.body = TrackedBody(base: self, holdsInputs: node.mayHoldInputs, oneToOne: node.kind.isOneToOne && node.children.isEmpty)
        }
        if let weigh = node.outputWeight as? @Sendable (Output) -> Int {
            tracked.outputWeight = { @Sendable (x: Tracked<Output>) in weigh(x.value) }
        }
        return tracked
    }
}

extension TimedStageBody {
    func trackedTimedBody(aggregates: Bool) -> any StageBody { TrackedTimedBody(base: self, aggregates: aggregates) }
}

/// What one worker of a tracked stage knows between items.
private final class TrackingState<Input, Output: Sendable> {
    /// Inputs that produced nothing yet, when the stage may hold inputs.
    var held = Lineage.empty
    /// The lineage the outputs made now carry.
    var current = Lineage.empty
    var produced = 0
    var inputs: [Input] = []
    var outputs: [Output] = []
    /// Tokens completed during the current chunk, recorded together at its end.
    var done: [AckToken] = []
    /// The inputs may be railway failure values (checked once, on the type).
    let inputsMayFail = Input.self is any CarriesFailure.Type
    /// The run's ledger, once an item has shown it.
    var ledger: AckLedger?

    /// An input arrives: its outputs will carry its lineage (and the held ones).
    func begin(_ lineage: Lineage, holdsInputs: Bool) {
        produced = 0
        if ledger == nil { ledger = lineage.ledger }
        if holdsInputs {
            held.absorb(lineage)
            current = held
        } else {
            current = lineage
        }
    }

    /// A railway failure value that does not leave this stage as itself — dropped (`successes()`,
    /// a filter) or gathered into another value (a batch) — fails the deliveries it carries: they
    /// ended as a failure even though no failure value reaches the terminal.
    func noteFailure(of value: Input, lineage: Lineage, dropped: Bool, holdsInputs: Bool) {
        guard inputsMayFail, dropped || holdsInputs, let failure = (value as? any CarriesFailure)?.carriedFailure else { return }
        lineage.forEach { $0.ledger.noteFailure(failure, of: $0) }
    }

    /// Makes `value` the only input (without emptying the array for each item).
    func setInput(_ value: Input) {
        if inputs.count == 1 {
            inputs[0] = value
        } else {
            inputs.removeAll(keepingCapacity: true)
            inputs.append(value)
        }
    }

    /// One output carries the current lineage.
    func stamp(_ value: Output) -> Tracked<Output> {
        produced += 1
        current.retain()
        return Tracked(value: value, lineage: current)
    }

    /// Moves the outputs from `start` on to `output`, stamped.
    func stampOutputs(from start: Int, into output: inout [Tracked<Output>]) {
        var j = start
        while j < outputs.count {
            output.append(stamp(outputs[j]))
            j += 1
        }
    }

    /// The input is done with: if it produced outputs, they carry it (and the held inputs) from now
    /// on; if not, it is held, or it was dropped and is complete.
    func settle(holdsInputs: Bool) {
        if produced > 0 {
            current.release(into: &done)
            if holdsInputs { held = .empty }
        } else if !holdsInputs {
            current.release(into: &done)
        }
        current = .empty
    }

    /// The stage ended: the held inputs go with the outputs it made at the end, or are complete.
    func finishHeld() {
        held.release(into: &done)
        held = .empty
        current = .empty
    }

    /// Records what the chunk completed and wakes the acknowledging task.
    func flush() {
        guard let ledger else { return }
        if !done.isEmpty {
            ledger.complete(done)
            done.removeAll(keepingCapacity: true)
        }
        ledger.signal()
    }
}

/// A stage's body on tracked values. Its own body runs one item at a time, so each output is
/// stamped with the lineage of the input that made it.
struct TrackedBody<Base: StageBody>: StageBody {
    typealias Input = Tracked<Base.Input>
    typealias Output = Tracked<Base.Output>

    let base: Base
    /// The stage may emit outputs for earlier inputs (see `StageKind.mayHoldInputs`).
    let holdsInputs: Bool
    /// The stage emits exactly one output per input (see `StageKind.isOneToOne`).
    let oneToOne: Bool

    var isFusible: Bool { base.isFusible }

    func makeKernel(context: StageContext) -> ChunkKernel<Input, Output>? {
        guard let kernel = base.makeKernel(context: context) else { return nil }
        if oneToOne { return Self.oneToOneKernel(kernel) }
        let state = TrackingState<Base.Input, Base.Output>()
        let holds = holdsInputs
        return ChunkKernel(
            process: { input, output in
                // The outputs stay in `state.outputs` until the end of the chunk (no emptying per item).
                defer { state.outputs.removeAll(keepingCapacity: true) }
                var i = 0
                while i < input.count {
                    let x = input[i]
                    state.begin(x.lineage, holdsInputs: holds)
                    state.setInput(x.value)
                    let before = state.outputs.count
                    do {
                        try kernel.process(&state.inputs, &state.outputs)
                    } catch {
                        state.inputs.removeAll(keepingCapacity: true)
                        state.stampOutputs(from: before, into: &output)
                        // A stage that completes after emitting for this input is done with it;
                        // an input that failed is never complete.
                        if error is StageCompleted && state.produced > 0 { state.settle(holdsInputs: holds) }
                        // The caller keeps what the stage did not take (see `consume`).
                        input.removeFirst(i + 1)
                        state.flush()
                        throw error
                    }
                    state.stampOutputs(from: before, into: &output)
                    state.noteFailure(of: x.value, lineage: x.lineage, dropped: state.produced == 0, holdsInputs: holds)
                    state.settle(holdsInputs: holds)
                    i += 1
                }
                state.flush()
            },
            finish: { output in
                state.current = state.held
                defer { state.outputs.removeAll(keepingCapacity: true) }
                try kernel.finish(&state.outputs)
                state.stampOutputs(from: 0, into: &output)
                state.finishHeld()
                state.flush()
            })
    }

    /// A one-to-one stage's kernel on a whole chunk: output `i` takes over input `i`'s lineage
    /// (no count changes, nothing completes here).
    private static func oneToOneKernel(_ kernel: ChunkKernel<Base.Input, Base.Output>) -> ChunkKernel<Input, Output> {
        let state = TrackingState<Base.Input, Base.Output>()
        return ChunkKernel(
            process: { input, output in
                for x in input { state.inputs.append(x.value) }
                defer {
                    state.inputs.removeAll(keepingCapacity: true)
                    state.outputs.removeAll(keepingCapacity: true)
                }
                var failure: (any Error)?
                do { try kernel.process(&state.inputs, &state.outputs) } catch { failure = error }
                // On a failure, the outputs of the items before the failing one.
                let made = state.outputs.count
                precondition(made <= input.count, "a one-to-one stage made \(made) outputs of \(input.count) inputs")
                for j in 0..<made { output.append(Tracked(value: state.outputs[j], lineage: input[j].lineage)) }
                if let failure {
                    input.removeFirst(Swift.min(made + 1, input.count))
                    throw failure
                }
                precondition(made == input.count, "a one-to-one stage made \(made) outputs of \(input.count) inputs")
            },
            finish: { output in
                try kernel.finish(&state.outputs)
                precondition(state.outputs.isEmpty, "a one-to-one stage emitted outputs at its end")
            })
    }

    func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        if let kernel = makeKernel(context: context) { return AsyncSink(kernel: kernel, downstream: downstream) }
        let state = TrackingState<Base.Input, Base.Output>()
        let holds = holdsInputs
        let push = downstream.push
        let inner = base.makeAsyncSink(
            AsyncSink<Base.Output>(push: { y in try await push(state.stamp(y)) }, finish: downstream.finish),
            context: context)
        return AsyncSink(
            push: { x in
                state.begin(x.lineage, holdsInputs: holds)
                do {
                    try await inner.push(x.value)
                } catch {
                    if error is StageCompleted && state.produced > 0 { state.settle(holdsInputs: holds) }
                    state.flush()
                    throw error
                }
                state.noteFailure(of: x.value, lineage: x.lineage, dropped: state.produced == 0, holdsInputs: holds)
                state.settle(holdsInputs: holds)
                state.flush()
            },
            finish: {
                state.current = state.held
                try await inner.finish()
                state.finishHeld()
                state.flush()
            })
    }
}

/// A timed stage's body on tracked values: every output carries the inputs received since the
/// previous output (a batch's items, the items a debounce passed over); an item a full buffer
/// drops is complete.
struct TrackedTimedBody<Base: TimedStageBody>: TimedStageBody {
    typealias Input = Tracked<Base.Input>
    typealias Output = Tracked<Base.Output>

    let base: Base
    /// The stage gathers its inputs into other values (a batch): a railway failure it takes in
    /// fails its deliveries.
    let aggregates: Bool

    var outputCapacity: Int? { base.outputCapacity }
    var inboxCapacity: Int? { base.inboxCapacity }

    func makeTimedKernel(context: StageContext) -> TimedKernel<Input, Output> {
        let kernel = base.makeTimedKernel(context: context)
        let state = TrackingState<Base.Input, Base.Output>()
        let baseDrop = kernel.onDrop, aggregates = aggregates
        /// Stamps what the stage emitted with every input held so far.
        func emit(_ output: inout [Output]) {
            guard !state.outputs.isEmpty else { return }
            state.current = state.held
            for y in state.outputs { output.append(state.stamp(y)) }
            state.outputs.removeAll(keepingCapacity: true)
            state.finishHeld()
        }
        return TimedKernel(
            timeline: kernel.timeline, capacity: kernel.capacity, overflow: kernel.overflow,
            onDrop: { @Sendable dropped in
                baseDrop?(dropped.value)
                dropped.lineage.releaseNow()
            },
            receive: { x, now, output in
                if state.ledger == nil { state.ledger = x.lineage.ledger }
                state.noteFailure(of: x.value, lineage: x.lineage, dropped: false, holdsInputs: aggregates)
                state.held.absorb(x.lineage)
                try kernel.receive(x.value, now, &state.outputs)
                emit(&output)
            },
            deadline: kernel.deadline,
            fire: { now, output in
                try kernel.fire(now, &state.outputs)
                emit(&output)
            },
            finish: { output in
                try kernel.finish(&state.outputs)
                emit(&output)
                state.finishHeld()
                state.flush()
            })
    }
}

/// A broadcast or route on tracked values: its branches are tracked stage by stage; a broadcast
/// item, which each branch will be done with once, first counts once per branch.
struct TrackedBranchesBody<Input: Sendable, Output: Sendable>: StageBody, GroupBodyProtocol {
    let inner: BranchesBody<Tracked<Input>, Tracked<Output>>
    /// How many branches each item goes to: every one (broadcast), or one (route).
    let copies: Int

    init(_ base: BranchesBody<Input, Output>) {
        let select = base.select, describe = base.describeKey
        inner = BranchesBody(
            branches: base.branches.map(Tracking.nodes), labels: base.labels,
            select: select.map { select in { @Sendable (x: Tracked<Input>) in select(x.value) } },
            describeKey: describe.map { describe in { @Sendable (x: Tracked<Input>) in describe(x.value) } })
        copies = select == nil ? base.branches.count : 1
    }

    var nodes: [StageNode] { inner.nodes }

    func makeAsyncSink(_ downstream: AsyncSink<Tracked<Output>>, context: StageContext) -> AsyncSink<Tracked<Input>> {
        let sink = inner.makeAsyncSink(downstream, context: context)
        let push = sink.push, copies = copies
        return AsyncSink(
            push: { x in
                if copies == 0 {
                    x.lineage.releaseNow()   // a broadcast without branches drops every item
                    return
                }
                for _ in 1..<copies { x.lineage.retain() }
                try await push(x)
            },
            finish: sink.finish)
    }
}

/// A body that rebuilds itself on tracked values (its inner stages tracked, its functions reading
/// the values).
protocol TrackableBody {
    func trackedBody() -> any StageBody
}

/// A per-key stage on tracked values: the key is the value's; the inner stage is tracked.
extension PartitionedBody: TrackableBody {
    func trackedBody() -> any StageBody {
        let key = key
        return PartitionedBody<Tracked<Input>, Tracked<Output>, Key>(
            inner: Tracking.nodes([inner])[0], key: { key($0.value) }, window: window)
    }
}
