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
            precondition(limit > .zero, "timeout must be > 0, got \(limit) (stage '\(stage)')")
            body.layers.append(TimeoutLayer.make(limit, clock: clock))
        }
    }
}

/// The time limit, as a layer: `next` races a sleep on the clock in a task group; the loser is
/// cancelled, and the group waits for it before returning.
enum TimeoutLayer {
    static func make<Input, Output, C: Clock<Duration>>(_ limit: Duration, clock: C) -> InvocationLayer<Input, Output> {
        InvocationLayer { x, _, next in
            try await withoutActuallyEscaping(next) { next in
                // `next` (and the per-worker state it uses) runs in the child while this task only
                // awaits the group, which ends after the child: see `HandOff`.
                let work = HandOff(value: next)
                return try await withThrowingTaskGroup(of: [Output].self) { group in
                    group.addTask { try await work.value(x) }
                    group.addTask {
                        try await clock.sleep(for: limit)
                        throw TimeoutError(limit: limit)
                    }
                    defer { group.cancelAll() }
                    return try await group.next()!
                }
            }
        }
    }
}
