// `aroundEachStage` and `observeEachStage`: one middleware or observer for every stage of a flow,
// told each stage's name.
import SluiceExecutor

/// A middleware for every stage of a flow (see `aroundEachStage(_:)`): it gets the stage's name,
/// the item (type-erased: the stages have different types) and `next`, which runs the rest of the
/// stage on the item. Not calling `next` drops the item's outputs.
///
/// ```swift
/// let timing: StageMiddleware = { stage, item, next in
///     let start = ContinuousClock.now
///     try await next()
///     print("\(stage): \(item) took \(start.duration(to: .now))")
/// }
/// ```
public typealias StageMiddleware = @Sendable (_ stage: String, _ item: any Sendable, _ next: () async throws -> Void) async throws -> Void

extension FlowComponent {
    /// Wraps every stage of this flow in `middleware`, which is told each stage's name: tracing,
    /// timing or logging for a whole flow at once, instead of `.named("x").around(mw("x"))` on
    /// each stage.
    ///
    /// ```swift
    /// let traced = (op.map(fetch).named("fetch") | op.map(parse).named("parse")).aroundEachStage { stage, item, next in
    ///     try await tracer.span(stage) { try await next() }
    /// }
    /// ```
    ///
    /// It is each stage's outermost layer so far, like `around` written last on every stage.
    /// Stages that group consecutive items (`batch`, the stream operators, the timed stages) have
    /// no per-item call and are left as they are; a fragment made one stage by a modifier is one
    /// stage here too.
    ///
    /// - Parameter middleware: Called once per item and stage, with the stage's name.
    /// - Returns: The same stages, each wrapped.
    public func aroundEachStage(_ middleware: @escaping StageMiddleware) -> Flow<Input, Output> {
        Flow(nodes: flow.nodes.map { node in node.addingPolicies(middleware: middleware, observer: nil) })
    }

    /// Calls `observer` for every item every stage of this flow handles (see `StageEvent`), with
    /// the stage's name in `event.stage` and the item type-erased.
    ///
    /// ```swift
    /// let logged = ingest.observeEachStage { event in
    ///     if case .failed(let failure, _) = event.kind { log.warning("\(failure)") }
    /// }
    /// ```
    ///
    /// Stages that group consecutive items (`batch`, the stream operators, the timed stages) have
    /// no per-item events and are left as they are.
    ///
    /// - Parameter observer: Called for each event of each stage.
    /// - Returns: The same stages, each observed.
    public func observeEachStage(_ observer: @escaping StageObserver<any Sendable>) -> Flow<Input, Output> {
        Flow(nodes: flow.nodes.map { node in node.addingPolicies(middleware: nil, observer: ObserverEntry(observer)) })
    }

    /// Calls the synchronous `observer` for every item every stage of this flow handles, as
    /// `observeEachStage(_:)` with an asynchronous one does, but inline in the workers. Swift
    /// picks this overload for a closure without `await`.
    ///
    /// ```swift
    /// let counted = ingest.observeEachStage { event in
    ///     if case .succeeded = event.kind { throughput.increment(event.stage) }
    /// }
    /// ```
    ///
    /// - Parameter observer: Called for each event of each stage, by the stage's worker.
    /// - Returns: The same stages, each observed.
    public func observeEachStage(_ observer: @escaping SynchronousStageObserver<any Sendable>) -> Flow<Input, Output> {
        Flow(nodes: flow.nodes.map { node in node.addingPolicies(middleware: nil, observer: ObserverEntry(synchronous: observer)) })
    }
}

extension StageNode {
    /// This node with a type-erased middleware and observer added to its policies (sequential
    /// nodes have no per-item call: unchanged).
    func addingPolicies(middleware: StageMiddleware?, observer: ObserverEntry<any Sendable>?) -> StageNode {
        guard !isSequential else { return self }
        var node = self
        node.body = Self.policies(of: body, kind: kind, middleware: middleware, observer: observer)
        return node
    }

    private static func policies<B: StageBody>(of body: B, kind: StageKind, middleware: StageMiddleware?, observer: ObserverEntry<any Sendable>?) -> any StageBody {
        var policy = body as? PolicyBody<B.Input, B.Output>
            ?? PolicyBody<B.Input, B.Output>(inner: body, railway: RailwayAdapter(kind: kind))
        if let middleware {
            policy.layers.append(InvocationLayer { x, invocation, next in
                var outputs: [B.Output] = []
                try await middleware(invocation.stage, x) { outputs = try await next(x) }
                return outputs
            })
        }
        if let observer {
            policy.observers.append(.erasing(observer))
        }
        return policy
    }
}

extension StageEvent {
    /// The same event with its item type-erased.
    var erased: StageEvent<any Sendable> {
        let kind: StageEvent<any Sendable>.Kind
        switch self.kind {
        case .started: kind = .started
        case .retried(let attempt, let delay, let error): kind = .retried(attempt: attempt, delay: delay, error: error)
        case .succeeded(let duration, let attempts): kind = .succeeded(duration: duration, attempts: attempts)
        case .failed(let failure, let duration): kind = .failed(failure, duration: duration)
        case .cancelled(let duration): kind = .cancelled(duration: duration)
        }
        return StageEvent<any Sendable>(stage: stage, item: item, kind: kind, outputs: outputs)
    }
}
