// Fan-in: one pipeline from several — `Pipeline.merge`, `Pipeline.concat`, `Pipeline.zip`.
import SluiceExecutor

extension Pipeline {
    /// The input as a whole pipeline run inside a fan-in source.
    var subPipeline: SubPipeline { SubPipeline(source: source, nodes: nodes, options: RunOptions()) }

    /// One pipeline reading several at the same time: items leave in the order they arrive.
    ///
    /// ```swift
    /// let events = Pipeline.merge(
    ///     Pipeline(clicks) | op.map(Event.click),
    ///     Pipeline(views) | op.map(Event.view))
    /// let all = try await (events | op.map(store).workers(4)).collect()
    /// ```
    ///
    /// Each input runs with its own stages, concurrently, in a child task of the run: nothing of it
    /// outlives the terminal, and each is read only as fast as the merged pipeline is consumed
    /// (its memory bound adds up). The merged pipeline ends when every input has ended; it fails
    /// with the first input's failure (its `StageFailure`, after the items merged before it), and
    /// the other inputs are cancelled.
    ///
    /// - Parameter pipelines: The inputs; none gives an empty pipeline.
    /// - Returns: A pipeline of every input's items, in completion order.
    public static func merge(_ pipelines: Pipeline<Element>...) -> Pipeline<Element> {
        merge(pipelines)
    }

    /// One pipeline reading every pipeline of an array at the same time (see ``merge(_:)-(Pipeline<Element>...)``).
    ///
    /// ```swift
    /// let shards = (0..<4).map { shard in Pipeline { try await loadShard(shard) } }
    /// let rows = try await Pipeline.merge(shards).count()
    /// ```
    ///
    /// - Parameter pipelines: The inputs; an empty array gives an empty pipeline.
    /// - Returns: A pipeline of every input's items, in completion order.
    public static func merge(_ pipelines: [Pipeline<Element>]) -> Pipeline<Element> {
        Pipeline(source: MergeSource<Element>(inputs: pipelines.map(\.subPipeline)), nodes: [])
    }

    /// One pipeline reading several one after another: every item of the first, then of the second, …
    ///
    /// ```swift
    /// let history = Pipeline.concat(Pipeline(archived), Pipeline(recent))
    /// ```
    ///
    /// An input starts only when the one before it has ended, so one input runs at a time. A
    /// failing input fails the pipeline after its items; the later inputs never start.
    ///
    /// - Parameter pipelines: The inputs, in order.
    /// - Returns: A pipeline of the inputs' items, input after input.
    public static func concat(_ pipelines: Pipeline<Element>...) -> Pipeline<Element> {
        concat(pipelines)
    }

    /// One pipeline reading every pipeline of an array, one after another (see ``concat(_:)-(Pipeline<Element>...)``).
    ///
    /// ```swift
    /// let pages = Pipeline.concat((1...3).map { n in Pipeline { try await page(n) } })
    /// ```
    ///
    /// - Parameter pipelines: The inputs, in order.
    /// - Returns: A pipeline of the inputs' items, input after input.
    public static func concat(_ pipelines: [Pipeline<Element>]) -> Pipeline<Element> {
        Pipeline(source: ConcatSource<Element>(inputs: pipelines.map(\.subPipeline)), nodes: [])
    }

    /// Pairs the items of two pipelines in order, ending with the shorter one.
    ///
    /// ```swift
    /// let numbered = Pipeline.zip(Pipeline(1...), Pipeline(lines))   // (1, first line), (2, second line), …
    /// ```
    ///
    /// Both inputs run at the same time, each at most a small window (64 items) ahead of its
    /// partner. When one ends, the other is cancelled and the pipeline ends; a failing input
    /// fails it after the pairs made before the failure.
    ///
    /// - Parameters:
    ///   - first: The pipeline giving each pair's first element.
    ///   - second: The pipeline giving each pair's second element.
    /// - Returns: A pipeline of pairs, as many as the shorter input has items.
    public static func zip<A, B>(_ first: Pipeline<A>, _ second: Pipeline<B>) -> Pipeline<(A, B)> where Element == (A, B) {
        Pipeline<(A, B)>(source: ZipSource<A, B>(first.subPipeline, second.subPipeline), nodes: [])
    }
}
