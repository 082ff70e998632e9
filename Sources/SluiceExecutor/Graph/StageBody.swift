// A stage's typed behaviour: it turns a downstream sink into an upstream one, once per worker.

/// A synchronous push sink: the fused fast path. Built per worker, never shared between tasks.
package struct SyncSink<Element> {
    package var push: (Element) throws -> Void
    package var finish: () throws -> Void

    package init(push: @escaping (Element) throws -> Void, finish: @escaping () throws -> Void) {
        self.push = push
        self.finish = finish
    }
}

/// An asynchronous push sink: used when a segment contains an async or expanding stage.
package struct AsyncSink<Element> {
    package var push: (Element) async throws -> Void
    package var finish: () async throws -> Void

    package init(push: @escaping (Element) async throws -> Void, finish: @escaping () async throws -> Void) {
        self.push = push
        self.finish = finish
    }
}

/// What a worker knows while it builds its sinks.
@usableFromInline
package struct StageContext {
    /// The name to put in `StageFailure`.
    @usableFromInline package var name: String
    /// The run, to check for a stop between items of an expansion.
    @usableFromInline package var run: RunState
    /// The worker's lifecycle: bodies register per-worker setup and teardown here.
    package var scope: WorkerScope
    /// This worker's counters for the stage when the run is measured (`nil`: no metrics, no cost).
    package var meter: StageCounters?

    package init(name: String, run: RunState, scope: WorkerScope = WorkerScope(), meter: StageCounters? = nil) {
        self.name = name
        self.run = run
        self.scope = scope
        self.meter = meter
    }
}

/// One worker's lifecycle. Sinks are built synchronously; a body that needs per-worker async setup
/// (a client, a parser) or teardown registers it here. The worker runs every `onStart` before its
/// first item and every `onExit` (in reverse order) when it ends: normally, on error or on
/// cancellation. Owned by one worker task; never shared.
package final class WorkerScope {
    package private(set) var starts: [() async throws -> Void] = []
    /// Hands the worker's pending outputs to the next stage. A body calls it before it waits on
    /// something other than its input (e.g. the next element of an async expansion), so that
    /// finished outputs are not held back meanwhile. Set by the worker.
    package var flushOutputs: () async throws -> Void = {}
    package private(set) var exits: [() async -> Void] = []

    package init() {}

    package func onStart(_ body: @escaping () async throws -> Void) { starts.append(body) }
    package func onExit(_ body: @escaping () async -> Void) { exits.append(body) }

    package func start() async throws {
        for s in starts { try await s() }
    }

    package func exit() async {
        for e in exits.reversed() { await e() }
    }
}

/// The typed body of a stage. Front ends implement it; the executor composes bodies into worker
/// pipelines at plan time so that no per-item cast or boxing happens on the hot path.
package protocol StageBody: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// True if `makeSyncSink` is implemented: the body never suspends and emits at most one
    /// output per input (so a worker's outbox cannot grow without bound).
    var isFusible: Bool { get }

    /// Builds this stage in front of `downstream`, synchronously. Only called when `isFusible`.
    func makeSyncSink(_ downstream: SyncSink<Output>, context: StageContext) -> SyncSink<Input>

    /// Builds this stage in front of `downstream`.
    func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input>

    /// This stage's chunk kernel (the fast path for fused synchronous segments), or `nil`.
    func makeKernel(context: StageContext) -> ChunkKernel<Input, Output>?
}

extension StageBody {
    package var isFusible: Bool { false }

    package func makeKernel(context: StageContext) -> ChunkKernel<Input, Output>? { nil }

    package func makeSyncSink(_ downstream: SyncSink<Output>, context: StageContext) -> SyncSink<Input> {
        preconditionFailure("stage '\(context.name)' has no synchronous form")
    }

    /// The synchronous sink, for a downstream sink erased as `Any` (one cast per worker, at plan time).
    package func erasedSyncSink(_ downstream: Any, context: StageContext) -> Any {
        makeSyncSink(downstream as! SyncSink<Output>, context: context)
    }

    package func erasedAsyncSink(_ downstream: Any, context: StageContext) -> Any {
        makeAsyncSink(downstream as! AsyncSink<Output>, context: context)
    }
}

/// Composes a chain of nodes, back to front, in front of a typed tail sink.
package enum SinkComposer {
    package static func sync<In, Out>(_ nodes: [StageNode], tail: SyncSink<Out>, run: RunState, scope: WorkerScope, prefix: String? = nil, probe: WorkerProbe? = nil, as: In.Type = In.self) -> SyncSink<In> {
        if let probe { return probe.sync(nodes, tail: tail, run: run, scope: scope) }  // a measured run
        var sink: Any = tail
        for node in nodes.reversed() {
            sink = node.body.erasedSyncSink(sink, context: StageContext(name: qualified(node.name, prefix), run: run, scope: scope))
        }
        return sink as! SyncSink<In>
    }

    package static func async<In, Out>(_ nodes: [StageNode], tail: AsyncSink<Out>, run: RunState, scope: WorkerScope, prefix: String? = nil, probe: WorkerProbe? = nil, as: In.Type = In.self) -> AsyncSink<In> {
        if let probe { return probe.async(nodes, tail: tail, run: run, scope: scope) }  // a measured run
        var sink: Any = tail
        for node in nodes.reversed() {
            let context = StageContext(name: qualified(node.name, prefix), run: run, scope: scope)
            if node.isFusible {
                // A synchronous stage inside an async chain: adapt it without an extra await per stage.
                sink = node.body.erasedAsyncFromSync(sink, context: context)
            } else {
                sink = node.body.erasedAsyncSink(sink, context: context)
            }
        }
        return sink as! AsyncSink<In>
    }

    static func qualified(_ name: String, _ prefix: String?) -> String {
        prefix.map { "\($0)/\(name)" } ?? name
    }
}

extension StageBody {
    /// Runs a fusible body inside an async chain: its sync sink pushes into a local slot that the
    /// async wrapper forwards downstream (at most one output per input, so one slot suffices).
    package func erasedAsyncFromSync(_ downstream: Any, context: StageContext) -> Any {
        let next = downstream as! AsyncSink<Output>
        let slot = Box<Output?>(nil)
        let sync = makeSyncSink(SyncSink(push: { slot.value = $0 }, finish: {}), context: context)
        let sink = AsyncSink<Input>(
            push: { x in
                try sync.push(x)
                if let y = slot.value {
                    slot.value = nil
                    try await next.push(y)
                }
            },
            finish: {
                try sync.finish()
                if let y = slot.value {
                    slot.value = nil
                    try await next.push(y)
                }
                try await next.finish()
            })
        return sink
    }
}

/// Implemented by the group body so the graph can be inspected.
package protocol GroupBodyProtocol {
    var nodes: [StageNode] { get }
}

/// A fragment acting as one stage: its nodes run one after the other inside each worker.
package struct GroupBody<Input: Sendable, Output: Sendable>: StageBody, GroupBodyProtocol {
    package var nodes: [StageNode]
    /// Prefix for the inner stages' names in errors (the group's name, when named explicitly).
    package var prefix: String?

    package init(nodes: [StageNode], prefix: String?, input: Input.Type = Input.self, output: Output.Type = Output.self) {
        self.nodes = nodes
        self.prefix = prefix
    }

    package var isFusible: Bool { nodes.allSatisfy(\.isFusible) && !nodes.contains(where: \.isSequential) }

    package func makeSyncSink(_ downstream: SyncSink<Output>, context: StageContext) -> SyncSink<Input> {
        SinkComposer.sync(nodes, tail: downstream, run: context.run, scope: context.scope, prefix: prefix)
    }

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        SinkComposer.async(nodes, tail: downstream, run: context.run, scope: context.scope, prefix: prefix)
    }
}
