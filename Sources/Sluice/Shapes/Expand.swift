// `op.expand` and `Expand`: recursive expansion — each item's successors are processed in turn.
import SluiceExecutor

extension op {
    /// Processes each item and, recursively, the items it leads to: a crawl (page → links →
    /// pages), a graph walk, pagination. `step` returns the item's output and its successors.
    ///
    /// ```swift
    /// let pages: Flow<URL, Page> = op.expand(dedupe: .items, maxDepth: 3) { (url: URL) in
    ///     let page = try await fetch(url)
    ///     return (page, page.links)
    /// }.workers(8)
    /// ```
    ///
    /// Every item admitted is processed once and gives one output; outputs leave in completion
    /// order. An item's depth is that of the first path that reached it: with `dedupe`, which path
    /// that is depends on timing, so with both `dedupe` and `maxDepth` an item near the limit may
    /// be missed when a longer path reached it first (Docs/Expansion.md). An item is admitted if it is within `maxDepth` (the stage's inputs have depth 0),
    /// the stage has admitted fewer than `limit` items, and `dedupe` has not seen it. The stage ends
    /// when its input has ended and no admitted item is left anywhere: nothing to count or signal
    /// by hand. It never deadlocks: successors never wait for room (see the Expansion guide).
    ///
    /// Memory: the shared frontier holds at most `frontier` items; successors that do not fit go on
    /// the worker's own stack, which it works off first (at most `maxDepth` × the largest number
    /// of successors, per worker); one input item per worker waits.
    ///
    /// - Parameters:
    ///   - dedupe: How to recognise an item seen before in this run (`.none`: every item is new).
    ///   - maxDepth: The deepest successors processed (`nil`: no limit), `>= 0`.
    ///   - limit: The most items processed in all, inputs included (`nil`: no limit), `>= 1`.
    ///     Once reached, the input is not read any more.
    ///   - frontier: Items the shared frontier holds, `>= 1`.
    ///   - step: Called once per admitted item: its output and its successors. An error fails the
    ///     run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `expand`.
    public static func expand<A, B>(
        dedupe: Dedupe<A> = .none, maxDepth: Int? = nil, limit: Int? = nil, frontier: Int = 1024,
        _ step: @escaping @Sendable (A) throws -> (B, [A])
    ) -> Flow<A, B> {
        expandFlow(.sync(step), dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier)
    }

    /// Processes each item and, recursively, the items it leads to, with an asynchronous step (see
    /// ``expand(dedupe:maxDepth:limit:frontier:_:)-(_,_,_,_,(A)->(B,[A]))``).
    ///
    /// ```swift
    /// op.expand(dedupe: .items, limit: 10_000) { (url: URL) in
    ///     let page = try await fetch(url)
    ///     return (page, page.links)
    /// }.workers(8)
    /// ```
    ///
    /// - Parameters:
    ///   - dedupe: How to recognise an item seen before in this run (`.none`: every item is new).
    ///   - maxDepth: The deepest successors processed (`nil`: no limit), `>= 0`.
    ///   - limit: The most items processed in all, inputs included (`nil`: no limit), `>= 1`.
    ///   - frontier: Items the shared frontier holds, `>= 1`.
    ///   - step: Called once per admitted item: its output and its successors.
    /// - Returns: A one-stage flow of kind `expand`.
    public static func expand<A, B>(
        dedupe: Dedupe<A> = .none, maxDepth: Int? = nil, limit: Int? = nil, frontier: Int = 1024,
        _ step: @escaping @Sendable (A) async throws -> (B, [A])
    ) -> Flow<A, B> {
        expandFlow(.async(step), dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier)
    }
}

/// Recursive expansion (builder style; same stage as `op.expand`).
///
/// ```swift
/// Flow<URL, Page> {
///     Expand(dedupe: .items, maxDepth: 3) { (url: URL) in
///         let page = try await fetch(url)
///         return (page, page.links)
///     }.workers(8)
/// }
/// ```
public struct Expand<Input: Sendable, Output: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Output>

    /// An expansion with a synchronous step.
    ///
    /// ```swift
    /// Expand(dedupe: .items) { (n: Int) in (n, n < 10 ? [n + 1] : []) }
    /// ```
    ///
    /// - Parameters:
    ///   - dedupe: How to recognise an item seen before in this run.
    ///   - maxDepth: The deepest successors processed (`nil`: no limit).
    ///   - limit: The most items processed in all (`nil`: no limit).
    ///   - frontier: Items the shared frontier holds.
    ///   - step: The item's output and its successors.
    public init(dedupe: Dedupe<Input> = .none, maxDepth: Int? = nil, limit: Int? = nil, frontier: Int = 1024,
                _ step: @escaping @Sendable (Input) throws -> (Output, [Input])) {
        flow = op.expand(dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier, step)
    }

    /// An expansion with an asynchronous step.
    ///
    /// ```swift
    /// Expand(dedupe: .items) { (url: URL) in let p = try await fetch(url); return (p, p.links) }
    /// ```
    ///
    /// - Parameters:
    ///   - dedupe: How to recognise an item seen before in this run.
    ///   - maxDepth: The deepest successors processed (`nil`: no limit).
    ///   - limit: The most items processed in all (`nil`: no limit).
    ///   - frontier: Items the shared frontier holds.
    ///   - step: The item's output and its successors.
    public init(dedupe: Dedupe<Input> = .none, maxDepth: Int? = nil, limit: Int? = nil, frontier: Int = 1024,
                _ step: @escaping @Sendable (Input) async throws -> (Output, [Input])) {
        flow = op.expand(dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier, step)
    }
}

/// How an expansion recognises items it has already seen in a run: the dedupe hook.
///
/// ```swift
/// op.expand(dedupe: .by(\Page.url)) { … }   // by a key
/// op.expand(dedupe: .items) { … }           // Hashable items themselves
/// ```
public struct Dedupe<Item: Sendable>: Sendable {
    let rule: DedupeRule<Item>

    /// Every item is new (cycles then need `maxDepth` or `limit` to end).
    ///
    /// ```swift
    /// op.expand(dedupe: .none, maxDepth: 2) { (n: Int) in (n, [n, n]) }
    /// ```
    public static var none: Dedupe { Dedupe(rule: DedupeRule(make: nil)) }

    /// Items with equal keys are the same item: only the first one is processed.
    ///
    /// ```swift
    /// op.expand(dedupe: .by(\Link.url)) { (link: Link) in try await visit(link) }
    /// ```
    ///
    /// - Parameter key: The item's identity; called once per item offered.
    /// - Returns: A rule remembering every key seen in the run.
    public static func by<K: Hashable & SendableMetatype>(_ key: @escaping @Sendable (Item) -> K) -> Dedupe {
        Dedupe(rule: DedupeRule(make: {
            var seen = Set<K>()
            return SeenSet { seen.insert(key($0)).inserted }
        }))
    }

    /// A hook of your own: `isNew` is called once per item offered (under the stage's lock, one
    /// call at a time) and returns whether to process it; `makeFilter` makes a fresh one per run.
    ///
    /// ```swift
    /// op.expand(dedupe: .custom { let bloom = BloomFilter(); return { bloom.insert($0) } }) { … }
    /// ```
    ///
    /// - Parameter makeFilter: Called at the start of every run.
    /// - Returns: A rule using that filter.
    public static func custom(_ makeFilter: @escaping @Sendable () -> (Item) -> Bool) -> Dedupe {
        Dedupe(rule: DedupeRule(make: { SeenSet(makeFilter()) }))
    }
}

extension Dedupe where Item: Hashable {
    /// Equal items are the same item.
    ///
    /// ```swift
    /// op.expand(dedupe: .items) { (n: Int) in (n, graph[n, default: []]) }
    /// ```
    public static var items: Dedupe { .by { $0 } }
}

/// The expansion stage both front ends build.
func expandFlow<A, B>(_ step: Transform<A, (B, [A])>, dedupe: Dedupe<A>, maxDepth: Int?, limit: Int?, frontier: Int) -> Flow<A, B> {
    if let maxDepth { require(maxDepth >= 0, "maxDepth must be >= 0, got \(maxDepth) (stage 'expand')") }
    if let limit { require(limit >= 1, "limit must be >= 1, got \(limit) (stage 'expand')") }
    require(frontier >= 1, "frontier must be >= 1, got \(frontier) (stage 'expand')")
    let body = ExpandBody<A, B>(
        step: { x, name in try await step.callAsync(x, stage: name) },
        dedupe: dedupe.rule,
        limits: ExpansionLimits(maxDepth: maxDepth, maxCount: limit, frontier: frontier))
    return Flow(StageNode(kind: .expand, body: body))
}
