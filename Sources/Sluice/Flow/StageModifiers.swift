// Stage modifiers: workers, buffer, ordered(window:), unordered, named — on any component, in both
// front ends.
import SluiceExecutor

extension FlowComponent {
    /// Runs the stage with `count` concurrent workers (default 1). On a multi-stage fragment, each
    /// worker runs the whole fragment. `count` must be in `1...10_000` (each worker is a long-lived
    /// task with its own chunks; more is far beyond useful concurrency), and `1` on a sequential
    /// stage (`batch`, `scan`, `prefix`, `dropFirst`, `drop(while:)`, `distinct`).
    ///
    /// ```swift
    /// op.map(fetch).workers(8)
    /// Map(fetch).workers(8)
    /// ```
    ///
    /// Outputs still leave in input order unless the stage is also `.unordered()`.
    ///
    /// - Parameter count: Concurrent workers; at least 1, and exactly 1 for a stage that keeps
    ///   state across consecutive items (`batch`, the stream operators, or a fragment containing
    ///   one). Both are preconditions.
    /// - Returns: The flow as one stage with `count` workers.
    public func workers(_ count: Int) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            require(count >= 1, "workers must be >= 1, got \(count) (stage '\(node.name)')")
            require(count <= Plan.maxWorkers, "workers must be <= \(Plan.maxWorkers), got \(count) (stage '\(node.name)')")
            require(count == 1 || !node.isSequential,
                    "workers must be 1 for stage '\(node.name)', got \(count): it keeps state across consecutive items")
            node.options.workers = count
        }
    }

    /// Sets the capacity of the stage's output channel: `0` is a rendezvous, `.unbounded` removes
    /// the bound. Negative sizes are rejected. The default is 512 for a stage with one worker
    /// (items move in large batches) and 48 for a parallel stage (`workers(n)`, `n > 1`).
    /// Either way the channel starts small and grows while its consumer keeps taking (*slow
    /// start*), so a consumer that needs a few items does not make the stage fill it.
    ///
    /// ```swift
    /// op.map(parse).buffer(32)
    /// ```
    ///
    /// - Parameter size: The channel's capacity in items: `0` or more (a precondition), or
    ///   `.unbounded`.
    /// - Returns: The flow as one stage with that output buffer.
    public func buffer(_ size: BufferSize) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            require(size.capacity >= 0, "buffer must be >= 0, got \(size.capacity) (stage '\(node.name)')")
            node.options.buffer = size.capacity
        }
    }

    /// Bounds the stage's output buffer by total weight as well as by count: the items it holds
    /// weigh at most `maxWeight` together, by `weight` (bytes, say). An item heavier than the
    /// whole bound still passes, alone, so nothing deadlocks. The stage hands over each output as
    /// it is made, so its workers hold at most one item each beyond the bound. `weight` is called
    /// under the buffer's lock: keep it cheap (`\.count`, a stored size).
    ///
    /// ```swift
    /// op.map(download).workers(4).buffer(maxWeight: 64 << 20) { $0.count }   // ≤ 64 MiB waiting
    /// Map(download).workers(4).buffer(maxWeight: 64 << 20) { $0.count }
    /// ```
    ///
    /// - Parameters:
    ///   - size: The buffer's capacity in items, as `buffer(_:)`; `nil` keeps the stage's.
    ///   - maxWeight: The most total weight the buffer holds: at least 1 (a precondition).
    ///   - weight: An output's weight; negative weights count as 0.
    /// - Returns: The flow as one stage with a weight-bounded output buffer.
    public func buffer(_ size: BufferSize? = nil, maxWeight: Int, weight: @escaping @Sendable (Output) -> Int) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            if let size {
                require(size.capacity >= 0, "buffer must be >= 0, got \(size.capacity) (stage '\(node.name)')")
                node.options.buffer = size.capacity
            }
            require(maxWeight >= 1, "maxWeight must be >= 1, got \(maxWeight) (stage '\(node.name)')")
            node.options.maxWeight = maxWeight
            node.outputWeight = weight
        }
    }

    /// Keeps input order with a reorder window of `window` input items: the stage's workers keep
    /// taking items past a slow one until the completed items held back behind it span `window`
    /// items. A larger window lets fan-out I/O ride over a slow request; a smaller one holds less
    /// memory. The default is 16 items per worker. Only matters with `workers > 1`; the window is
    /// part of `Pipeline.inFlightBound`.
    ///
    /// ```swift
    /// op.map(fetch).workers(32).ordered(window: 1_024)
    /// Map(fetch).workers(32).ordered(window: 1_024)
    /// ```
    ///
    /// Where order does not matter, `.unordered()` holds nothing back at all.
    ///
    /// - Parameter window: The window in input items: at least 1 (a precondition).
    /// - Returns: The flow as one stage that emits in input order through that window.
    public func ordered(window: Int) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            require(window >= 1, "window must be >= 1, got \(window) (stage '\(node.name)')")
            node.options.ordered = true
            node.options.window = window
        }
    }

    /// Emits results in completion order instead of input order (only matters with `workers > 1`).
    ///
    /// ```swift
    /// op.map(fetch).workers(8).unordered()
    /// ```
    ///
    /// - Returns: The flow as one stage that emits in completion order.
    public func unordered() -> Flow<Input, Output> {
        flow.modifyingStage { node in
            node.options.ordered = false
            node.options.window = nil
        }
    }

    /// Names the stage for errors, metrics and descriptions.
    ///
    /// ```swift
    /// op.map(fetch).named("fetch")
    /// ```
    ///
    /// On a multi-stage fragment, the name also prefixes its inner stages' names in their errors
    /// (`extract/parse`).
    ///
    /// - Parameter name: A non-empty name (a precondition).
    /// - Returns: The flow as one stage with that name.
    public func named(_ name: String) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            require(!name.isEmpty, "name must not be empty (stage '\(node.name)')")
            node.name = name
            node.isNamed = true
        }
    }
}

extension Flow {
    /// Applies `change` to the flow as one stage: its single node, or a group of all its nodes.
    package func modifyingStage(_ change: (inout StageNode) -> Void) -> Flow {
        var node: StageNode
        if nodes.count == 1 {
            node = nodes[0]
        } else {
            // A timed stage (`batch(n, within:)`, `debounce`, a dropping buffer) runs as a
            // segment of its own: it cannot be one of a group's inner stages.
            if let timed = nodes.first(where: { $0.body is any TimedStageBody }) {
                require(false, "stage '\(timed.name)' acts on time and cannot be inside a fragment turned into one stage by a modifier; apply the modifier to the stages around it")
            }
            node = StageNode(
                kind: .group, options: StageOptions(),
                isSequential: nodes.contains(where: \.isSequential),
                body: GroupBody<Input, Output>(nodes: nodes))
        }
        change(&node)
        return Flow(node)
    }
}
