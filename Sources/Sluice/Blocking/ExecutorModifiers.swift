// Stage modifiers that choose where a stage's workers run: `blocking(on:)` and `executorPreference(_:)`.

extension FlowComponent {
    /// Runs the stage's workers on `pool`'s dedicated threads instead of Swift's cooperative pool:
    /// for stages that make blocking calls. Works the same on `op` stages and builder components.
    ///
    /// ```swift
    /// let pool = BlockingPool(threads: 8)
    /// op.map(readFileBlocking).workers(8).blocking(on: pool)
    /// Map(readFileBlocking).workers(8).blocking(on: pool)
    /// ```
    ///
    /// `workers(n)` is how many items the stage works on at once; the pool's threads are how many
    /// blocking calls can run at once, across every stage and pipeline that uses the pool. In flight:
    /// `min(n, threads)` for one stage, `min(sum of the stages' workers, threads)` for several.
    /// On a multi-stage fragment, each worker runs the whole fragment on the pool.
    ///
    /// Cancelling the run cannot interrupt a call that is already blocking a thread: the run ends
    /// when the running calls return (at most one per worker), and no new call starts after the
    /// cancellation.
    ///
    /// - Parameter pool: The threads the stage's workers run on; the stage keeps it alive.
    /// - Returns: The flow as one stage whose workers prefer `pool` as their executor.
    public func blocking(on pool: BlockingPool) -> Flow<Input, Output> {
        executorPreference(pool)
    }

    /// Runs the stage's workers with `executor` as their task executor preference: any
    /// `TaskExecutor`, for example a ``BlockingPool`` or an event loop that implements one.
    /// The stage is never fused with its neighbours.
    ///
    /// ```swift
    /// op.map(render).workers(4).executorPreference(renderExecutor)
    /// ```
    ///
    /// - Parameter executor: The executor the stage's workers prefer.
    /// - Returns: The flow as one stage whose workers prefer `executor`.
    public func executorPreference(_ executor: any TaskExecutor) -> Flow<Input, Output> {
        flow.modifyingStage { $0.executorPreference = executor }
    }
}
