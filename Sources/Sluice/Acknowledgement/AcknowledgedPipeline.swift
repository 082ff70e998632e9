// `AcknowledgedPipeline`: a pipeline over a source whose items are acknowledged once they, and
// everything derived from them, have left the pipeline.
import SluiceExecutor

/// A pipeline over an acknowledged source: each delivery is acknowledged once it and every item
/// derived from it have left the pipeline — consumed by the terminal, dropped by a filter, part of
/// a batch that was consumed, or ended as a railway failure value (acknowledged as failed, with
/// its `StageFailure`).
///
/// Build it like a `Pipeline`, with `|` and flows (pipe or builder style); run it with a terminal.
/// Acknowledgements reach `acknowledge` in batches, from a task of the run; the terminal returns
/// once every acknowledgement of the run was sent.
///
/// ```swift
/// let jobs = AcknowledgedPipeline(acknowledge: { batch in
///     try await queue.markDone(batch.acknowledgements.map(\.id))
/// }, deliveries: { queue.deliveries() })
/// try await (jobs | op.map(decode) | op.filter(isWanted) | op.map(store).workers(8)).drain()
/// ```
///
/// **At least once.** When the run fails (fail-fast) or is cancelled, an item that had not
/// completed is never acknowledged, so a durable source delivers it again; items that completed
/// before are acknowledged (on cancellation, acknowledgements not yet sent may be lost too).
/// A `GracefulStop` ends a run without losing anything: the source stops, items already read
/// finish and are acknowledged.
///
/// **Exact through any stage.** Each item carries the deliveries it derives from: a `flatMap`'s
/// outputs all carry their input, a batch carries all of its items, and a delivery is complete
/// only when the last item carrying it has left, whatever the order in which unordered workers
/// finish, through broadcast, route and per-key (`partitioned`) stages too. Expansion stages are
/// not supported yet: applying a flow with one is rejected with an error naming the stage.
public struct AcknowledgedPipeline<Element: Sendable>: Sendable {
    /// Makes one run's source, whose items carry the tokens of that run's ledger.
    let makeSource: @Sendable (AckLedger) -> any SourceBody
    /// The stages, rebuilt on tracked values.
    let nodes: [StageNode]
    var options: RunOptions
    let acknowledger: Acknowledger

    init(makeSource: @escaping @Sendable (AckLedger) -> any SourceBody, nodes: [StageNode], options: RunOptions, acknowledger: Acknowledger) {
        self.makeSource = makeSource
        self.nodes = nodes
        self.options = options
        self.acknowledger = acknowledger
    }

    /// An acknowledged pipeline whose deliveries come from an async sequence made afresh at each
    /// run (a new subscription, a new connection), read in a task of its own.
    ///
    /// ```swift
    /// let jobs = AcknowledgedPipeline(maxBatch: 100, acknowledge: { batch in
    ///     try await queue.complete(batch)
    /// }, deliveries: { try await queue.subscribe() })
    /// ```
    ///
    /// - Parameters:
    ///   - maxBatch: The most acknowledgements per call of `acknowledge`; `≥ 1` (a precondition).
    ///   - acknowledge: Receives the acknowledgements, in batches, one call at a time, from a task
    ///     of the run. An error it throws fails the run with a `StageFailure` of the stage
    ///     `"acknowledge"`.
    ///   - makeDeliveries: Called at the start of every run; an error it (or the sequence) throws
    ///     fails the run as a `StageFailure` of the stage `"source"`.
    public init<S: AsyncSequence & SendableMetatype, ID: Sendable>(
        maxBatch: Int = 256,
        acknowledge: @escaping @Sendable (AckBatch<ID>) async throws -> Void,
        deliveries makeDeliveries: @escaping @Sendable () async throws -> S
    ) where S.Element == Delivery<ID, Element> {
        self.init(
            makeSource: { ledger in AckAsyncSource(make: makeDeliveries, ledger: ledger) },
            nodes: [], options: RunOptions(),
            acknowledger: Acknowledger(maxBatch: maxBatch, acknowledge: acknowledge))
    }

    /// An acknowledged pipeline over a sequence of deliveries (re-read at each run): for tests,
    /// and for a batch of messages already in hand.
    ///
    /// ```swift
    /// let p = AcknowledgedPipeline([Delivery(id: 1, element: "a")], acknowledge: { batch in
    ///     print(batch.acknowledgements.map(\.id))
    /// })
    /// ```
    ///
    /// - Parameters:
    ///   - deliveries: The deliveries, read in order at every run.
    ///   - maxBatch: The most acknowledgements per call of `acknowledge`; `≥ 1` (a precondition).
    ///   - acknowledge: Receives the acknowledgements, in batches (see the other initializer).
    public init<S: Sequence & Sendable, ID: Sendable>(
        _ deliveries: S,
        maxBatch: Int = 256,
        acknowledge: @escaping @Sendable (AckBatch<ID>) async throws -> Void
    ) where S.Element == Delivery<ID, Element> {
        self.init(
            makeSource: { ledger in AckSequenceSource(deliveries: deliveries, ledger: ledger) },
            nodes: [], options: RunOptions(),
            acknowledger: Acknowledger(maxBatch: maxBatch, acknowledge: acknowledge))
    }

    /// The stages applied to the source, as a flow would describe them.
    ///
    /// ```swift
    /// (jobs | op.map(decode).workers(4)).stages   // [map(workers: 4)]
    /// ```
    public var stages: [StageDescription] { nodes.map(StageDescription.init) }

    /// Makes every run obey `stop`: once it is requested, the source is not read again, the items
    /// already read finish and are acknowledged, and the terminal returns normally.
    ///
    /// ```swift
    /// let stop = GracefulStop()
    /// try await (jobs | op.map(handle)).withGracefulStop(stop).drain()
    /// ```
    ///
    /// - Parameter stop: The handle; request it from any task (on SIGTERM, for example).
    /// - Returns: This pipeline, stoppable.
    public func withGracefulStop(_ stop: GracefulStop) -> AcknowledgedPipeline {
        var p = self
        p.options = p.options.obeying(stop)
        return p
    }

    /// Measures this pipeline's runs into `metrics` (see `Pipeline.metrics(_:)`).
    ///
    /// ```swift
    /// try await (jobs | op.map(handle)).metrics(metrics).drain()
    /// ```
    ///
    /// - Parameter metrics: Where the runs report; a new run resets it.
    /// - Returns: The same pipeline, measured.
    public func metrics(_ metrics: PipelineMetrics) -> AcknowledgedPipeline {
        var p = self
        p.options.metrics = metrics.recorder
        return p
    }
}

/// Applies a flow to an acknowledged pipeline.
///
/// ```swift
/// let p = jobs | op.map(decode) | op.filter(isWanted)
/// ```
///
/// - Parameters:
///   - lhs: The acknowledged pipeline.
///   - rhs: The flow its items go through. It must not contain an expand stage (a precondition,
///     naming the stage).
/// - Returns: The pipeline with the flow's stages; deliveries complete when their descendants do.
public func | <A, B>(lhs: AcknowledgedPipeline<A>, rhs: Flow<A, B>) -> AcknowledgedPipeline<B> {
    AcknowledgedPipeline<B>(makeSource: lhs.makeSource, nodes: lhs.nodes + Tracking.nodes(rhs.nodes),
                            options: lhs.options, acknowledger: lhs.acknowledger)
}

extension AcknowledgedPipeline {
    /// Runs `body` on each output, in order, on the caller's task. An output is done with — and
    /// the deliveries it derives from may be acknowledged — once `body` returns for it. A throw
    /// from `body` stops the run and is rethrown (that output is not done with).
    ///
    /// ```swift
    /// try await (jobs | op.map(decode)).forEach { job in try await store(job) }
    /// ```
    ///
    /// - Parameters:
    ///   - isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    ///   - body: Called with each output, in order.
    /// - Throws: The first `StageFailure` (a stage, the source or `acknowledge` failed),
    ///   `PipelineTimeout`, `CancellationError`, or what `body` threw.
    public func forEach(isolation: isolated (any Actor)? = #isolation, _ body: (Element) async throws -> Void) async throws {
        try await run { out, ledger in
            var batch: [Tracked<Element>] = []
            while try await out.receive(into: &batch) {
                var done: [AckToken] = []
                for x in batch {
                    do {
                        try await body(x.value)
                    } catch {
                        // The outputs before this one were done with.
                        ledger.complete(done)
                        throw error
                    }
                    x.consumed(into: &done)
                }
                ledger.complete(done)
                ledger.signal()
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Runs the pipeline, discarding its outputs (the work is in the stages): every output is done
    /// with as soon as it reaches the end.
    ///
    /// ```swift
    /// try await (jobs | op.map(handle).workers(8)).drain()
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Throws: The first `StageFailure`, `PipelineTimeout` or `CancellationError`.
    public func drain(isolation: isolated (any Actor)? = #isolation) async throws {
        try await run { out, ledger in
            var batch: [Tracked<Element>] = []
            while try await out.receive(into: &batch) {
                var done: [AckToken] = []
                for x in batch { x.consumed(into: &done) }
                ledger.complete(done)
                ledger.signal()
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Runs the pipeline and returns every output. The outputs are done with only when the run has
    /// succeeded, so a failed run acknowledges none of the deliveries they derive from.
    ///
    /// ```swift
    /// let results = try await (jobs | op.map(handle)).collect()
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: Every output of the run.
    /// - Throws: The first `StageFailure`, `PipelineTimeout` or `CancellationError`.
    public func collect(isolation: isolated (any Actor)? = #isolation) async throws -> [Element] {
        try await run { out, ledger in
            var all: [Tracked<Element>] = []
            while try await out.receive(into: &all) {}
            var done: [AckToken] = []
            for x in all { x.consumed(into: &done) }
            ledger.complete(done)
            return all.map(\.value)   // the run's end sends what completed
        }
    }

    /// Runs the pipeline once, with its acknowledging task beside it.
    private func run<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ consume: (RunOutput<Tracked<Element>>, AckLedger) async throws -> Result
    ) async throws -> Result {
        let ledger = AckLedger()
        let abort = RunAbort()
        var options = options
        var limits = options.limits ?? RunLimits()
        limits.abort = abort
        options.limits = limits
        let pipeline = Pipeline<Tracked<Element>>(source: makeSource(ledger), nodes: nodes, options: options)
        let acknowledger = acknowledger
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self, isolation: isolation) { group in
            group.addTask {
                do {
                    try await acknowledger.run(ledger)
                } catch {
                    let failure = StageFailure.wrap(error, stage: "acknowledge", item: nil)
                    abort.abort(failure)
                    throw failure
                }
            }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await pipeline.execute(isolation: isolation) { try await consume($0, ledger) })
            } catch {
                outcome = .failure(error)
            }
            // Nothing completes after the run: send what is left, then end.
            ledger.end()
            var failure: (any Error)?
            do { try await group.waitForAll() } catch { failure = error }
            if case .success = outcome, let failure { throw failure }
            return try outcome.get()
        }
    }
}

/// Sends a run's acknowledgements, a batch at a time, with the caller's `ID` type restored.
struct Acknowledger: Sendable {
    let maxBatch: Int
    let send: @Sendable ([(id: any Sendable, outcome: AckOutcome)], (any Sendable)?) async throws -> Void

    init<ID: Sendable>(maxBatch: Int, acknowledge: @escaping @Sendable (AckBatch<ID>) async throws -> Void) {
        require(maxBatch >= 1, "AcknowledgedPipeline: maxBatch must be ≥ 1, got \(maxBatch)")
        self.maxBatch = maxBatch
        send = { completed, through in
            let acks = completed.map { Acknowledgement(id: $0.id as! ID, outcome: $0.outcome) }
            try await acknowledge(AckBatch(acknowledgements: acks, completedThrough: through.map { $0 as! ID }))
        }
    }

    /// Sends every batch the ledger hands out until it ends.
    func run(_ ledger: AckLedger) async throws {
        while let (completed, through) = await ledger.take(limit: maxBatch) {
            try await send(completed, through)
        }
    }
}

/// Deliveries from an async sequence made at each run, stamped with tokens of one run's ledger.
struct AckAsyncSource<S: AsyncSequence & SendableMetatype, ID: Sendable, Element: Sendable>: SourceBody where S.Element == Delivery<ID, Element> {
    let make: @Sendable () async throws -> S
    let ledger: AckLedger
    var isSynchronous: Bool { false }

    func open(stop: StopSignal) async throws -> SourceCursor<Tracked<Element>> {
        let reader = AsyncIteratorReader(try await make().makeAsyncIterator())
        let ledger = ledger, sequence = Box(0)
        return .async {
            guard let delivery = try await reader.next() else { return nil }
            defer { sequence.value += 1 }
            return Tracked(value: delivery.element, lineage: Lineage(AckToken(sequence: sequence.value, id: delivery.id, ledger: ledger)))
        }
    }
}

/// Deliveries from a sequence, read in chunks, stamped with tokens of one run's ledger.
struct AckSequenceSource<S: Sequence & Sendable, ID: Sendable, Element: Sendable>: SourceBody where S.Element == Delivery<ID, Element> {
    let deliveries: S
    let ledger: AckLedger
    var isSynchronous: Bool { true }

    func open(stop: StopSignal) async throws -> SourceCursor<Tracked<Element>> {
        let reader = IteratorReader(deliveries.makeIterator(), stop: stop)
        let ledger = ledger, sequence = Box(0)
        var scratch: [Delivery<ID, Element>] = []
        return .sync { buffer, limit in
            let more = reader.read(into: &scratch, limit: limit)
            for delivery in scratch {
                buffer.append(Tracked(value: delivery.element, lineage: Lineage(AckToken(sequence: sequence.value, id: delivery.id, ledger: ledger))))
                sequence.value += 1
            }
            scratch.removeAll(keepingCapacity: true)
            return more
        }
    }
}
