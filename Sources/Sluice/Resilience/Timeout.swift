// `.timeout(...)`: a time limit on the stage's work for one item, measured on an injectable clock.
import SluiceExecutor

extension FlowComponent {
    /// Limits the stage's work on each item to `limit`, measured on `clock`.
    ///
    /// When the limit passes, the work is cancelled and the item fails with `TimeoutError` — a
    /// failure like any other: `retry` retries it (written after `timeout`, each attempt gets the
    /// full limit), and the run's `StageFailure` wraps it.
    ///
    /// Cancellation is cooperative: awaiting code that honours it (`Task.sleep`, `URLSession`,
    /// Sluice's own waits) stops at once; synchronous code, or code that never checks, is not
    /// pre-empted — the stage reports the timeout when that code returns, and discards its result.
    /// The work runs in a child task (task-locals and the worker's executor preference are
    /// inherited).
    ///
    /// The limit must be > 0. A huge limit (`.seconds(.max)`) means no limit in practice: the
    /// stage waits at most `.seconds(Int64.max / 2)` (about 146 billion years), a deadline every
    /// clock can represent.
    ///
    /// ```swift
    /// op.map(fetch).timeout(.seconds(2))
    /// Map(fetch).timeout(.seconds(2)).retry(.attempts(3))     // 2 s per attempt
    /// Map(fetch).retry(.attempts(3)).timeout(.seconds(5))     // 5 s for all attempts and waits
    /// ```
    ///
    /// - Parameters:
    ///   - limit: The time the stage may spend on one item; more than zero (a precondition).
    ///   - clock: The clock the limit is measured on; `ContinuousClock` unless a test injects one.
    /// - Returns: The flow as one stage with the timeout as its outermost layer so far.
    public func timeout(_ limit: Duration, clock: some Clock<Duration> = ContinuousClock()) -> Flow<Input, Output> {
        modifyingPolicies("timeout") { body, stage in
            require(limit > .zero, "timeout must be > 0, got \(limit) (stage '\(stage)')")
            body.layers.append(TimeoutLayer.make(limit, clock: clock))
        }
    }
}

extension Duration {
    /// The longest single wait Sluice asks a clock for: `.seconds(Int64.max / 2)`, about 146 billion
    /// years. `ContinuousClock` traps on a deadline past `Int64.max` seconds, so a longer timeout or
    /// backoff delay waits this long instead (the same, in practice: forever).
    static var longestWait: Duration { .seconds(Int64.max / 2) }
}

/// The time limit, as a layer: `next` races a sleep on the clock in a task group; the loser is
/// cancelled, and the group waits for it before returning.
enum TimeoutLayer {
    static func make<Input, Output, C: Clock<Duration>>(_ limit: Duration, clock: C) -> InvocationLayer<Input, Output> {
        InvocationLayer(name: "timeout \(limit)", keepsOutputs: true) { x, _, next in
            try await withoutActuallyEscaping(next) { next in
                // `next` is not Sendable: it closes over the worker's state (the inner body, the
                // outputs it collects). Safe to transfer: after `addTask` this task only awaits the
                // group, and the group returns only after both children ended (`cancelAll`, then
                // the implicit wait), so `next` runs in one task at a time; task creation and
                // completion order its uses before and after. `withoutActuallyEscaping` also
                // checks, at run time, that no copy of `next` outlives this call.
                let work = UnsafeTransfer(next)
                return try await withThrowingTaskGroup(of: [Output].self) { group in
                    group.addTask { try await work.value(x) }
                    group.addTask {
                        try await clock.sleep(for: Swift.min(limit, .longestWait))
                        throw TimeoutError(limit: limit)
                    }
                    defer { group.cancelAll() }
                    return try await group.next()!
                }
            }
        }
    }
}
