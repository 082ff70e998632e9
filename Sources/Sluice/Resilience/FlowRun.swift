// `flow.run(x)`: one input through a fragment, all its outputs back — a per-item call.

extension Flow {
    /// Runs one input through the flow and returns its outputs, in order (one per `map`, none if a
    /// `filter` drops it, several after a `flatMap`). Throws like a terminal: a `StageFailure` for
    /// the first failure, `CancellationError` if the caller is cancelled.
    ///
    /// This is a whole run of the flow, so retries, timeouts, observers and middleware apply as in a
    /// pipeline. For many inputs, apply the flow to all of them instead — `Pipeline(inputs) | flow`
    /// streams them with bounded memory and keeps their order:
    ///
    /// ```swift
    /// let enrich = op.map(fetch).retry(.attempts(3)) | op.map(parse)
    /// let page = try await enrich.run(url)                               // [Page] for one URL
    /// let all = try await (Pipeline(urls) | enrich.workers(8)).collect() // many, 8 at a time, in order
    /// ```
    ///
    /// - Parameters:
    ///   - input: The one input.
    ///   - isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The outputs for `input`, in order.
    /// - Throws: The first `StageFailure`, or `CancellationError` if the calling task was cancelled.
    public func run(_ input: Input, isolation: isolated (any Actor)? = #isolation) async throws -> [Output] {
        try await (Pipeline(CollectionOfOne(input)) | self).collect(isolation: isolation)
    }
}
