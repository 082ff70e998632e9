// `.partitioned(by:)`: order within each key, parallelism across keys, on any stage or fragment.
import SluiceExecutor

extension FlowComponent {
    /// Keeps input order within each key while different keys are processed at the same time and
    /// overtake each other: events of one user in order, users in parallel.
    ///
    /// ```swift
    /// op.map(applyEvent).workers(8).partitioned(by: \.userID)
    /// Map(applyEvent).workers(8).partitioned(by: \.userID)   // the same stage in the builder
    /// ```
    ///
    /// The stage's items wait in one queue per key; a worker takes the oldest item of a key that no
    /// other worker holds, so each key's items are processed one at a time, in input order, and
    /// leave in that order. Outputs of different keys leave in completion order. At most `window`
    /// items wait in the queues (then the input waits): a slow key holds only its own items, and the
    /// others keep flowing past it until the waiting items are all of that key. A failure fails the
    /// run as an unordered stage does: the outputs completed before it, then the `StageFailure`.
    ///
    /// `retry`, `timeout`, `around` and `observe` apply to the stage's per-item call, written before
    /// or after `partitioned(by:)`. Inside a group or a broadcast branch, the stage runs in the
    /// enclosing workers (an ordered group keeps every key's order; an unordered one does not).
    ///
    /// - Parameters:
    ///   - key: The item's key; called once per item.
    ///   - window: Items that may wait in the queues, at least 1 (default: 4 per worker, at least 16).
    /// - Returns: The flow as one stage of kind `partitioned`, keeping the workers set on it.
    public func partitioned<K: Hashable & Sendable>(by key: @escaping @Sendable (Input) -> K, window: Int? = nil) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            require(!node.isSequential,
                    "partitioned(by:) cannot apply to stage '\(node.name)': it keeps state across consecutive items")
            if let window { require(window >= 1, "window must be >= 1, got \(window) (stage '\(node.name)')") }
            var inner = node
            inner.options = StageOptions()
            inner.executorPreference = nil
            var outer = StageNode(kind: .partitioned, name: node.isNamed ? node.name : nil, options: node.options,
                                  body: PartitionedBody<Input, Output, K>(inner: inner, key: key, window: window))
            outer.isNamed = false   // the inner stage carries the name, as in its failures
            outer.executorPreference = node.executorPreference
            node = outer
        }
    }
}
