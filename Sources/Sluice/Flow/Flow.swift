// `Flow<Input, Output>`: the typed, reusable, sourceless fragment graph both front ends build.
import SluiceExecutor

/// A reusable pipeline fragment from `Input` to `Output`: stages with their names and options.
///
/// A `Flow` only *describes* work. Apply it to a source to get a `Pipeline`, which runs when a
/// terminal is called. Both front ends build the same value:
///
/// ```swift
/// let extract: Flow<Page, URL> = op.flatMap(links) | op.filter(isInternal) | op.map(normalize)
/// let same = Flow<Page, URL> { FlatMap(links); Filter(isInternal); Map(normalize) }
/// assert(extract.stages == same.stages)
/// let urls = try await extract(pages).collect()
/// ```
public struct Flow<Input: Sendable, Output: Sendable>: Sendable {
    package var nodes: [StageNode]

    package init(nodes: [StageNode]) {
        self.nodes = nodes
    }

    package init(_ node: StageNode) {
        self.nodes = [node]
    }

    /// Builds a flow with the result builder.
    ///
    /// ```swift
    /// let clean = Flow<String, Int> {
    ///     Map { $0.trimmingCharacters(in: .whitespaces) }
    ///     CompactMap { Int($0) }
    /// }
    /// ```
    ///
    /// - Parameter build: The stages, one statement each (see ``FlowBuilder``).
    public init(@FlowBuilder<Input> _ build: () -> Flow<Input, Output>) {
        self = build()
    }

    /// The stages of this flow, in order, with their kind, name and options.
    ///
    /// ```swift
    /// print((op.map { $0 + 1 }.workers(4) | op.filter { $0 > 2 }).stages)
    /// // [map(workers: 4), filter]
    /// ```
    public var stages: [StageDescription] { nodes.map(StageDescription.init) }
}

extension Flow where Input == Output {
    /// The empty flow: passes every item through unchanged.
    ///
    /// ```swift
    /// let nothing = Flow<Int, Int>()
    /// ```
    public init() {
        self.nodes = []
    }
}

extension Flow {
    /// Applies the flow to a sequence.
    ///
    /// ```swift
    /// let doubled = try await op.map { (x: Int) in x * 2 }([1, 2, 3]).collect()   // [2, 4, 6]
    /// ```
    ///
    /// - Parameter source: The items to run through the flow, read again at every run.
    /// - Returns: A pipeline; it runs when a terminal is called.
    public func callAsFunction<S: Sequence & Sendable>(_ source: S) -> Pipeline<Output> where S.Element == Input {
        Pipeline(source) | self
    }

    /// Applies the flow to an async sequence.
    ///
    /// ```swift
    /// let (numbers, input) = AsyncStream.makeStream(of: Int.self)
    /// for n in 1...3 { input.yield(n) }
    /// input.finish()
    /// let doubled = try await op.map { (x: Int) in x * 2 }(numbers).collect()   // [2, 4, 6]
    /// ```
    ///
    /// - Parameter source: The items to run through the flow, read in a task of their own.
    /// - Returns: A pipeline; it runs when a terminal is called.
    @_disfavoredOverload
    public func callAsFunction<S: AsyncSequence & Sendable>(_ source: S) -> Pipeline<Output> where S.Element == Input {
        Pipeline(source) | self
    }
}

/// Composes two flows.
///
/// ```swift
/// let parseAndCheck: Flow<String, Int> = op.compactMap { Int($0) } | op.filter { $0 > 0 }
/// ```
///
/// - Parameters:
///   - lhs: The first flow.
///   - rhs: The flow its outputs go to.
/// - Returns: The stages of `lhs`, then those of `rhs`.
public func | <A, B, C>(lhs: Flow<A, B>, rhs: Flow<B, C>) -> Flow<A, C> {
    Flow(nodes: lhs.nodes + rhs.nodes)
}
