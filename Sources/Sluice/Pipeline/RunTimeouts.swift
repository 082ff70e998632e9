// `pipeline.timeout(_:)` and `pipeline.idleTimeout(_:)`: limits on a whole run.
import SluiceExecutor

extension Pipeline {
    /// Ends every run of this pipeline that takes longer than `limit` with `PipelineTimeout`
    /// (`limit == .run`): every stage is stopped, and the terminal throws only once nothing of the
    /// run is running any more. The outputs delivered before it fired stay delivered.
    ///
    /// ```swift
    /// let pages = try await (Pipeline(urls) | op.map(fetch).workers(8)).timeout(.seconds(30)).collect()
    /// ```
    ///
    /// A result the terminal has complete when the limit fires (`first()`, `take(n)`) is returned.
    ///
    /// - Parameters:
    ///   - limit: The longest a run may take; `> 0` (a precondition). A huge limit waits about
    ///     145 years at most.
    ///   - clock: The clock the limit is measured on; `ContinuousClock` unless a test injects one.
    /// - Returns: This pipeline with the limit (it applies to each run separately).
    public func timeout(_ limit: Duration, clock: some Clock<Duration> = ContinuousClock()) -> Pipeline {
        require(limit > .zero, "timeout must be > 0, got \(limit) (pipeline)")
        return withLimits { $0.timeout = (limit, { Timeline(clock) }) }
    }

    /// Ends every run of this pipeline in which no item moves for `limit` with `PipelineTimeout`
    /// (`limit == .idle`). An item moves when it is read from the source or delivered to the
    /// consumer, so a stage holding the only item for longer than `limit` makes the run idle.
    ///
    /// ```swift
    /// let events = Pipeline(feed) | op.map(decode)
    /// try await events.idleTimeout(.seconds(60)).forEach(store)   // a feed quiet for a minute is dead
    /// ```
    ///
    /// - Parameters:
    ///   - limit: The longest no item may move; `> 0` (a precondition).
    ///   - clock: The clock the limit is measured on; `ContinuousClock` unless a test injects one.
    /// - Returns: This pipeline with the limit (each run is watched from its start).
    public func idleTimeout(_ limit: Duration, clock: some Clock<Duration> = ContinuousClock()) -> Pipeline {
        require(limit > .zero, "idleTimeout must be > 0, got \(limit) (pipeline)")
        return withLimits { $0.idle = (limit, { Timeline(clock) }) }
    }

    private func withLimits(_ change: (inout RunLimits) -> Void) -> Pipeline {
        var p = self
        var limits = p.options.limits ?? RunLimits()
        change(&limits)
        p.options.limits = limits
        return p
    }
}
