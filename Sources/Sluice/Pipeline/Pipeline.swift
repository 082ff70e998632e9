// `Pipeline<Element>`: a source plus a flow. Lazy: nothing runs until a terminal or a loop.
import SluiceExecutor

/// A source with stages applied: the thing you run.
///
/// A pipeline is a value: building it runs nothing, and every terminal call (or `for try await`
/// loop) runs it afresh, reading the source again.
///
/// ```swift
/// let pages = try await (Pipeline(urls) | op.map(fetch).workers(8) | op.filter(isValid)).collect()
/// ```
public struct Pipeline<Element: Sendable>: Sendable {
    package let source: any SourceBody
    package let nodes: [StageNode]
    /// Per-run settings (metrics), kept when stages are added.
    package var options: RunOptions

    package init(source: any SourceBody, nodes: [StageNode], options: RunOptions = RunOptions()) {
        self.source = source
        self.nodes = nodes
        self.options = options
    }

    /// A pipeline reading a sequence (re-iterated at each run).
    ///
    /// ```swift
    /// let p = Pipeline(1...100)
    /// ```
    ///
    /// - Parameter elements: The items, read in chunks (in the first stage's task when it can be fused).
    @inlinable
    public init<S: Sequence & Sendable>(_ elements: S) where S.Element == Element {
        self.init(chunkReader: ChunkReaders.reading(elements))
    }

    /// A pipeline over a sequence, read by `chunkReader` (built where the element type is concrete).
    @usableFromInline
    package init(chunkReader: @escaping @Sendable (StopSignal) -> (inout [Element], Int) -> Bool) {
        self.init(source: SequenceSource(makeReader: chunkReader), nodes: [])
    }

    /// Runs the pipeline once: `consume` reads the output on the caller's task (see the terminals).
    @usableFromInline
    package func execute<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ consume: (RunOutput<Element>) async throws -> Result
    ) async throws -> Result {
        var options = options
        var source = source
        if let limits = options.limits {
            // A fresh watch for each run: the limits count from this run's start.
            let watch = RunWatch(limits)
            options.watch = watch
            // A fan-in source sends into the run's first channel itself: the consumer's side notes
            // the activity, and its inputs' sources obey the graceful stop.
            if !(source is any DrivingSource) { source = watched(source, by: watch) }
            if let stop = limits.gracefulStop { source = stoppable(source, by: stop) }
        }
        return try await Runner.run(source: source, nodes: nodes, options: options, consume: consume)
    }

    /// A pipeline reading an async sequence, in a task of its own.
    ///
    /// ```swift
    /// let (messages, input) = AsyncStream.makeStream(of: String.self)
    /// let p = Pipeline(messages)
    /// ```
    ///
    /// - Parameter elements: The items, read item by item; an error it throws fails the run as a
    ///   `StageFailure` of the stage `"source"`.
    @_disfavoredOverload
    public init<S: AsyncSequence & Sendable>(_ elements: S) where S.Element == Element {
        self.init(source: AsyncSequenceSource(sequence: elements), nodes: [])
    }

    /// A pipeline whose source is computed at each run.
    ///
    /// ```swift
    /// let p = Pipeline { try await loadIDs() }
    /// ```
    ///
    /// - Parameter makeElements: Called at the start of every run; an error it throws fails the run
    ///   as a `StageFailure` of the stage `"source"`.
    @_disfavoredOverload
    public init<S: Sequence & SendableMetatype>(_ makeElements: @escaping @Sendable () async throws -> S) where S.Element == Element {
        self.init(source: DeferredSource(make: makeElements), nodes: [])
    }

    /// A pipeline whose async source is made afresh at each run (a new connection, a new
    /// subscription, a new file handle).
    ///
    /// ```swift
    /// let p = Pipeline { () async throws -> AsyncStream<String> in try await openFeed() }
    /// ```
    ///
    /// - Parameter makeElements: Called at the start of every run, in the source's own task; an
    ///   error it (or the sequence) throws fails the run as a `StageFailure` of the stage `"source"`.
    @_disfavoredOverload
    public init<S: AsyncSequence & SendableMetatype>(_ makeElements: @escaping @Sendable () async throws -> S) where S.Element == Element {
        self.init(source: DeferredAsyncSource(make: makeElements), nodes: [])
    }

    /// The stages applied to the source, as a flow would describe them.
    ///
    /// ```swift
    /// (Pipeline(1...3) | op.map { $0 + 1 }.workers(2)).stages   // [map(workers: 2)]
    /// ```
    public var stages: [StageDescription] { nodes.map(StageDescription.init) }

    /// The most items that can have left the source without having reached the consumer, for
    /// stages that emit one item per input: the memory bound described in the Concepts guide
    /// (Docs/Concepts.md). It depends only on the stages' workers and buffers (and, for the graph
    /// shapes, on their inputs, queues and frontiers: see Docs/Shapes.md).
    ///
    /// ```swift
    /// let p = Pipeline(urls) | op.map(fetch).workers(8).buffer(16)
    /// print(p.inFlightBound)
    /// ```
    public var inFlightBound: Int { boundWithShapes }
}

extension Pipeline {
    /// Bounds how far ahead the source is read by total weight as well as by count: the items
    /// read but not yet taken by the first stage weigh at most `maxWeight` together, by `weight`
    /// (bytes, say). The source is then read one item at a time by a task of its own; an item
    /// heavier than the whole bound still passes, alone. `weight` is called under the buffer's
    /// lock: keep it cheap.
    ///
    /// ```swift
    /// let p = Pipeline(documents).readAhead(maxWeight: 32 << 20) { $0.body.count }
    ///     | op.map(index).workers(4)
    /// ```
    ///
    /// Call it on the source's pipeline, before the stages (`|`) that follow.
    ///
    /// - Parameters:
    ///   - maxWeight: The most total weight read ahead: at least 1 (a precondition).
    ///   - weight: An item's weight; negative weights count as 0.
    /// - Returns: The pipeline with a weight-bounded read-ahead.
    public func readAhead(maxWeight: Int, weight: @escaping @Sendable (Element) -> Int) -> Pipeline<Element> {
        require(maxWeight >= 1, "maxWeight must be >= 1, got \(maxWeight) (source)")
        require(nodes.isEmpty, "readAhead(maxWeight:weight:) bounds the source: call it before the stages")
        var options = options
        options.sourceWeight = ErasedWeightBound(max: maxWeight, weigh: weight)
        return Pipeline(source: source, nodes: nodes, options: options)
    }
}

/// Applies a flow to a pipeline.
///
/// ```swift
/// let p = Pipeline([1, 2, 3]) | op.map { $0 * 10 } | op.filter { $0 > 10 }
/// ```
///
/// - Parameters:
///   - lhs: The pipeline.
///   - rhs: The flow its outputs go to.
/// - Returns: A pipeline with the same source and the stages of both.
public func | <A, B>(lhs: Pipeline<A>, rhs: Flow<A, B>) -> Pipeline<B> {
    Pipeline(source: lhs.source, nodes: lhs.nodes + rhs.nodes, options: lhs.options)
}
