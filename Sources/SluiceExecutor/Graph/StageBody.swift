// A stage's typed behaviour, in its two forms: a chunk kernel (synchronous) or an async sink.
import Synchronization

/// An asynchronous push sink: the form of a stage that may suspend or expand (and of every stage
/// inside a segment that has one). Built per worker, never shared between tasks.
package struct AsyncSink<Element> {
    package var push: (Element) async throws -> Void
    package var finish: () async throws -> Void

    package init(push: @escaping (Element) async throws -> Void, finish: @escaping () async throws -> Void) {
        self.push = push
        self.finish = finish
    }
}

/// Tells one worker to stop: set when its run stops, or when the worker's work is past a failure
/// (a later chunk of a failing stage, or any work upstream of it). Bodies check it before every
/// call of the user's closure, so nothing starts once it is set.
@usableFromInline
package final class StopSignal: Sendable {
    @usableFromInline let flag = Atomic<Bool>(false)
    /// A task waiting in `wait()` (at most one: the worker's watcher).
    private let waiter = Lock<(set: Bool, continuation: UnsafeContinuation<Void, Never>?)>((false, nil))

    package init() {}

    /// True once the worker must stop.
    @inlinable
    package var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Sets the signal (idempotent) and wakes the task waiting for it.
    package func set() {
        flag.store(true, ordering: .releasing)
        let waiting = waiter.withLock { state -> UnsafeContinuation<Void, Never>? in
            state.set = true
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume()
    }

    /// After `interruptWaiter()`: lets a new watcher wait again (at once set if the signal is).
    package func rearmWaiter() {
        waiter.withLock { state in
            state.set = flag.load(ordering: .acquiring)
            state.continuation = nil
        }
    }

    /// Wakes the task waiting in `wait()` without setting the signal: the worker's watcher then
    /// cancels the worker's work, and the worker goes on to conclude (see `WorkerScope.interrupt`).
    package func interruptWaiter() {
        let waiting = waiter.withLock { state -> UnsafeContinuation<Void, Never>? in
            state.set = true   // nothing waits after this
            defer { state.continuation = nil }
            return state.continuation
        }
        waiting?.resume()
    }

    /// Returns once the signal is set (or the waiter interrupted), or once the waiting task is
    /// cancelled.
    package func wait() async {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let now = waiter.withLock { state -> Bool in
                    if state.set { return true }
                    state.continuation = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiting = waiter.withLock { state -> UnsafeContinuation<Void, Never>? in
                state.set = true   // nothing waits after this
                defer { state.continuation = nil }
                return state.continuation
            }
            waiting?.resume()
        }
    }
}

/// What a worker knows while it builds its stages.
@usableFromInline
package struct StageContext {
    /// The name to put in `StageFailure`: the stage's name behind the names of its enclosing groups.
    @usableFromInline package var name: String
    /// The path of named groups around this stage (`nil` at the top level): a group passes its
    /// own name, joined to this, to the stages inside it.
    package var path: String?
    /// The worker's stop signal.
    @usableFromInline package var stop: StopSignal
    /// The worker's lifecycle: bodies register per-worker setup and teardown here.
    package var scope: WorkerScope
    /// This worker's counters for the stage when the run is measured (`nil`: no metrics, no cost).
    package var meter: StageCounters?
    /// Whether a body around this stage, in the same task, may go on after the stage fails (a
    /// stage with policies around a fragment: a `retry`, middleware, a railway). Such a stage must
    /// not interrupt the worker's task (`WorkerScope.interrupt`): what goes on after it would run
    /// cancelled. Kept by `child(_:)`; set by the enclosing body (`enclosedByLayers()`).
    package var isEnclosedByLayers = false

    package init(name: String, path: String? = nil, stop: StopSignal = StopSignal(), scope: WorkerScope = WorkerScope(), meter: StageCounters? = nil) {
        self.name = name
        self.path = path
        self.stop = stop
        self.scope = scope
        self.meter = meter
    }

    /// This context, for the body inside a stage's layers.
    package func enclosedByLayers() -> StageContext {
        var context = self
        context.isEnclosedByLayers = true
        return context
    }

    /// The context of `node` inside the group this context belongs to.
    /// A named group adds its name to the path of the stages inside it; an unnamed one (made by
    /// a modifier such as `workers`) is transparent.
    package func child(_ node: StageNode, meter: StageCounters? = nil) -> StageContext {
        let name = qualified(node.name, path)
        var context = StageContext(name: name, path: node.isNamed ? name : path, stop: stop, scope: scope, meter: meter)
        context.isEnclosedByLayers = isEnclosedByLayers
        return context
    }
}

/// `path/name`, or `name` at the top level.
func qualified(_ name: String, _ path: String?) -> String {
    path.map { "\($0)/\(name)" } ?? name
}

/// One worker's lifecycle. Stages are built synchronously; a body that needs per-worker async setup
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
    /// Cancels the task doing the worker's work, without stopping the worker (`nil` when the work
    /// has no task of its own to cancel). Set by the asynchronous segment worker, whose work runs
    /// in a child task beside a watcher: a timed kernel calls it when the item in hand is past its
    /// deadline, so the item's `await` is cancelled; the kernel then fails the item, and the
    /// worker concludes in its own (uncancelled) task.
    package var interrupt: (@Sendable () -> Void)?
    /// Set when the worker's work starts again after a `WorkRestart`: the chunk's first item
    /// goes on with it (its next attempt), once the kernel takes it.
    package var resumed: ResumedWork?

    package init() {}

    /// Tasks that run beside the worker's work for its whole life, cancelled when the work ends
    /// (a timeout's watchdog). Registered while the worker builds its stages; started only by
    /// workers that run companions (the plain segment worker), so a body must not rely on one
    /// before its `starting` was called.
    package private(set) var companions: [(starting: () -> Void, body: @Sendable () async -> Void)] = []

    /// Registers a companion task; `starting` is called, in the worker's task, right before the
    /// worker starts it (and before the worker takes its first item).
    package func runBeside(starting: @escaping () -> Void, _ body: @escaping @Sendable () async -> Void) {
        companions.append((starting, body))
    }

    /// Runs `work` with the companions beside it as child tasks, cancelled when `work` returns.
    package func withCompanions<R: Sendable>(_ work: () async -> R) async -> R {
        if companions.isEmpty { return await work() }
        let companions = self.companions
        return await withTaskGroup(of: Void.self) { group in
            for companion in companions {
                companion.starting()
                group.addTask(operation: companion.body)
            }
            let result = await work()
            group.cancelAll()
            return result
        }
    }

    package func onStart(_ body: @escaping () async throws -> Void) { starts.append(body) }
    package func onExit(_ body: @escaping () async -> Void) { exits.append(body) }

    package func start() async throws {
        for s in starts { try await s() }
    }

    package func exit() async {
        for e in exits.reversed() { await e() }
        exits.removeAll()
    }
}

/// The typed body of a stage. Front ends implement it; the executor composes bodies into worker
/// pipelines at plan time so that no per-item cast or boxing happens on the hot path.
///
/// A body has one synchronous form, its chunk kernel (`makeKernel`), and one asynchronous form
/// (`makeAsyncSink`). A synchronous body implements only the kernel: inside an asynchronous
/// segment the executor runs the kernel one item at a time. An asynchronous or expanding body
/// implements only the sink.
package protocol StageBody: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// True if `makeKernel` returns a kernel: the body never suspends and emits at most one output
    /// per input (so a worker's outbox cannot grow without bound), so it may be fused.
    var isFusible: Bool { get }

    /// This stage's chunk kernel, or `nil` for an asynchronous body.
    func makeKernel(context: StageContext) -> ChunkKernel<Input, Output>?

    /// Builds this stage in front of `downstream`.
    func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input>
    /// An asynchronous stage's per-item loop built for its concrete types (see
    /// `AsyncChunkKernel`); `nil` (the default) runs it through `makeAsyncSink`.
    func makeAsyncKernel(context: StageContext) -> AsyncChunkKernel<Input, Output>?
    /// True if `makeAsyncKernel` returns a kernel (in every worker) that may run behind fused
    /// synchronous stages: the plan then fuses the synchronous stages just before this one into
    /// its segment (see `Plan`). Not a kernel that may throw `WorkRestart` (its remaining input
    /// must be the worker's own).
    var acceptsSynchronousPrefix: Bool { get }
}

extension StageBody {
    package var isFusible: Bool { false }

    package func makeKernel(context: StageContext) -> ChunkKernel<Input, Output>? { nil }

    /// A synchronous body in an asynchronous segment: its kernel, one item at a time.
    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        guard let kernel = makeKernel(context: context) else {
            preconditionFailure("stage '\(context.name)' has neither a kernel nor an asynchronous form")
        }
        return AsyncSink(kernel: kernel, downstream: downstream)
    }

    package func erasedAsyncSink(_ downstream: Any, context: StageContext) -> Any {
        makeAsyncSink(downstream as! AsyncSink<Output>, context: context)
    }

    package func makeAsyncKernel(context: StageContext) -> AsyncChunkKernel<Input, Output>? { nil }
    package var acceptsSynchronousPrefix: Bool { false }

    /// The body's asynchronous kernel (an `AsyncChunkKernel<Input, Output>`), if it has one.
    package func erasedAsyncKernel(context: StageContext) -> Any? {
        makeAsyncKernel(context: context)
    }
}

extension AsyncSink {
    /// Runs `kernel` on each pushed item and forwards its outputs to `downstream`.
    package init<Output>(kernel: ChunkKernel<Element, Output>, downstream: AsyncSink<Output>) {
        // Two boxes, not one box of a pair: the kernel takes both buffers `inout` at once, and two
        // modifications of one class property at the same time are an exclusivity violation.
        let inputs = Box([Element]()), outputs = Box([Output]())
        let push = downstream.push, finish = downstream.finish
        self.init(
            push: { x in
                inputs.value.append(x)
                defer { inputs.value.removeAll(keepingCapacity: true) }
                do {
                    try kernel.process(&inputs.value, &outputs.value)
                } catch {
                    // The outputs of the items before the failing one (or before `StageCompleted`).
                    try await Self.forward(outputs, push)
                    // This stage needs no more input: the stages after it in the segment end here,
                    // since the segment will not call `finish`.
                    if error is StageCompleted { try await finish() }
                    throw error
                }
                try await Self.forward(outputs, push)
            },
            finish: {
                try kernel.finish(&outputs.value)
                try await Self.forward(outputs, push)
                try await finish()
            })
    }

    private static func forward<Output>(_ outputs: Box<[Output]>, _ push: (Output) async throws -> Void) async throws {
        if outputs.value.isEmpty { return }
        defer { outputs.value.removeAll(keepingCapacity: true) }
        // At most one output per input: nothing is appended while these are pushed.
        for y in outputs.value { try await push(y) }
    }
}

/// Composes a chain of nodes, back to front, in front of a typed tail sink.
package enum SinkComposer {
    /// The asynchronous chain of `nodes` in front of `tail`. Each stage checks the worker's stop
    /// signal before it takes an item, so no body starts once the worker must stop.
    package static func async<In, Out>(_ nodes: [StageNode], tail: AsyncSink<Out>, context: StageContext, probe: WorkerProbe? = nil, as: In.Type = In.self) -> AsyncSink<In> {
        if let probe { return probe.async(nodes, tail: tail, context: context) }  // a measured run
        var sink: Any = tail
        let stop = context.stop
        for node in nodes.reversed() {
            let inner = node.body.erasedAsyncSink(sink, context: context.child(node))
            sink = node.body.guarded(inner, stop: stop)
        }
        return sink as! AsyncSink<In>
    }
}

extension StageBody {
    /// `sink` behind a stop check.
    func guarded(_ sink: Any, stop: StopSignal) -> Any {
        let inner = sink as! AsyncSink<Input>
        let push = inner.push
        return AsyncSink<Input>(
            push: { x in
                if stop.isSet { throw CancellationError() }
                try await push(x)
            },
            finish: inner.finish)
    }
}

/// Implemented by the group body so the graph can be inspected.
package protocol GroupBodyProtocol {
    var nodes: [StageNode] { get }
}

/// A fragment acting as one stage: its nodes run one after the other inside each worker.
package struct GroupBody<Input: Sendable, Output: Sendable>: StageBody, GroupBodyProtocol {
    package var nodes: [StageNode]

    package init(nodes: [StageNode], input: Input.Type = Input.self, output: Output.Type = Output.self) {
        self.nodes = nodes
    }

    package var isFusible: Bool { nodes.allSatisfy(\.isFusible) && !nodes.contains(where: \.isSequential) }

    package func makeKernel(context: StageContext) -> ChunkKernel<Input, Output>? {
        guard isFusible else { return nil }
        return KernelComposer.kernel(nodes, context: context)
    }

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        SinkComposer.async(nodes, tail: downstream, context: context)
    }
}
