// `FlowComponent`: anything that is (or produces) a flow — builder components, named fragments, `Flow`.

/// A value that stands for a flow: the builder components (`Map`, `Filter`, …), `Flow` itself, and
/// your own named, reusable fragments.
///
/// ```swift
/// struct Extract: FlowComponent {
///     var flow: Flow<Page, URL> {
///         FlatMap(links)
///         Filter(isInternal)
///         Map(normalize)
///     }
/// }
/// let crawl = Flow<Page, URL> { Extract(); Filter(isNew) }
/// ```
public protocol FlowComponent<Input, Output>: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable
    /// The flow this component stands for.
    @FlowBuilder<Input> var flow: Flow<Input, Output> { get }
}

extension Flow: FlowComponent {
    /// A flow stands for itself.
    public var flow: Flow<Input, Output> { self }
}
