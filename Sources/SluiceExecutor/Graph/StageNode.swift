// The fragment graph's node: one stage (or a group of stages acting as one) with its options.

/// How a stage's workers are configured. `nil` means "not set": the planner picks the default and
/// may fuse the stage with its neighbours.
package struct StageOptions: Sendable, Hashable {
    /// Concurrent workers; `nil` = 1 and not set explicitly.
    package var workers: Int?
    /// Output channel capacity in items (`0` = rendezvous, `Int.max` = unbounded); `nil` = default.
    package var buffer: Int?
    /// `true` (the default): outputs leave in input order.
    package var ordered: Bool = true
    /// The reorder window of an ordered parallel stage, in input items; `nil` = the default
    /// (`Plan.windowPerWorker` per worker).
    package var window: Int?
    /// The most total weight the output channel holds (with `StageNode.outputWeight`); `nil` = by
    /// count only.
    package var maxWeight: Int?

    package init(workers: Int? = nil, buffer: Int? = nil, ordered: Bool = true, window: Int? = nil, maxWeight: Int? = nil) {
        self.workers = workers
        self.buffer = buffer
        self.ordered = ordered
        self.window = window
        self.maxWeight = maxWeight
    }

    /// True when nothing was set explicitly.
    package var isDefault: Bool { workers == nil && buffer == nil && ordered && window == nil && maxWeight == nil }
}

/// One node of a `Flow`'s graph.
package struct StageNode: Sendable {
    /// What the stage does: `map`, `filter`, `compactMap`, `flatMap`, `forEach`, `batch`, `group`, …
    package var kind: StageKind
    /// The name used in errors, metrics and descriptions (defaults to the kind).
    package var name: String
    /// True when `name` was given explicitly with `named(_:)`.
    package var isNamed: Bool
    package var options: StageOptions
    /// The typed body, erased. Its `Input`/`Output` are the node's element types.
    package var body: any StageBody
    /// True when the stage keeps state across items (e.g. `batch`): it cannot be split across workers.
    package var isSequential: Bool
    /// Where the stage's workers run: `nil` = the default (cooperative) executor.
    package var executorPreference: (any TaskExecutor)?
    /// Weighs an output for the output channel's weight bound (`options.maxWeight`): a
    /// `@Sendable (Output) -> Int`, erased (the executor casts it back where `Output` is known).
    package var outputWeight: (any Sendable)?
    /// What sets this stage apart from others of its kind, as written (`4, within: 2s`); shown
    /// in its description and compared with it (`nil`: nothing).
    package var parameters: String?

    package init(kind: StageKind, name: String? = nil, options: StageOptions = .init(), isSequential: Bool = false, body: any StageBody) {
        self.kind = kind
        self.name = name ?? kind.rawValue
        self.isNamed = name != nil
        self.options = options
        self.body = body
        self.isSequential = isSequential
    }

    /// The stages inside a group node (empty for a plain stage).
    package var children: [StageNode] { (body as? any GroupBodyProtocol)?.nodes ?? [] }

    /// May the planner run this stage in the same task as its neighbours?
    /// Only synchronous stages with at most one output per input and no explicit options.
    package var isFusible: Bool { options.isDefault && executorPreference == nil && body.isFusible }
}
