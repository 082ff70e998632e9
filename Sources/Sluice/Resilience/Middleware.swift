// `.around { item, next in … }`: user middleware around a stage's work on each item.

/// A function around a stage's work on one item: it gets the item and `next` (the rest of the
/// stage: inner middleware, then the stage's body) and returns the stage's outputs for the item —
/// one for `map`, none or one for `filter` and `compactMap`, any number for `flatMap`.
///
/// ```swift
/// let cached: Middleware<URL, Page> = { url, next in
///     if let page = cache[url] { return [page] }        // short-circuit: the body is not called
///     let pages = try await next(url)
///     for page in pages { cache[url] = page }
///     return pages
/// }
/// ```
public typealias Middleware<Input, Output> = @Sendable (_ item: Input, _ next: (Input) async throws -> [Output]) async throws -> [Output]

/// A `Middleware` that is also told the name of the stage it wraps: the name the stage has in the
/// run (after `named(_:)`, wherever it is written), as in errors and metrics.
///
/// ```swift
/// let timed: NamedMiddleware<URL, Page> = { stage, url, next in
///     let start = ContinuousClock.now
///     defer { latency.record(stage, start.duration(to: .now)) }
///     return try await next(url)
/// }
/// ```
public typealias NamedMiddleware<Input, Output> = @Sendable (_ stage: String, _ item: Input, _ next: (Input) async throws -> [Output]) async throws -> [Output]

extension FlowComponent {
    /// Wraps the stage's work on each item in `middleware`, which may change the item before
    /// calling `next`, change the outputs or the error after it, call it again, or not call it at
    /// all (short-circuit).
    ///
    /// Modifiers nest in the order written: a later one wraps the earlier ones. So
    /// `.around(a).around(b)` runs `b` outermost, and `.around(log).retry(…)` logs every attempt
    /// while `.retry(…).around(log)` logs each item once. `next` throws the error the stage's closure
    /// threw (not yet a `StageFailure`); what the middleware throws fails the item — wrapped in a
    /// `StageFailure` with the stage, the item and the attempts — or is retried by an outer `retry`.
    ///
    /// ```swift
    /// op.map(parse).around { line, next in
    ///     try await next(line.trimmingCharacters(in: .whitespaces))      // change the input
    /// }
    /// Map(fetch).around { url, next in
    ///     do { return try await next(url) }
    ///     catch let error as HTTPError where error.status == 404 { return [] }   // drop 404s
    /// }
    /// ```
    ///
    /// - Parameter middleware: Called once per item (per attempt, inside a later `retry`) with the
    ///   item and `next`.
    /// - Returns: The flow as one stage with the middleware as its outermost layer so far.
    public func around(_ middleware: @escaping Middleware<Input, Output>) -> Flow<Input, Output> {
        modifyingPolicies("around") { body, _ in
            body.layers.append(InvocationLayer { x, _, next in try await middleware(x, next) })
        }
    }

    /// Wraps the stage's work on each item in `middleware`, like `around(_:)`, and tells it the
    /// stage's name: one middleware can serve several stages (timing, tracing, logging) without
    /// repeating each name. The name is the one the stage has in the run, also when `named(_:)`
    /// is written after this modifier.
    ///
    /// ```swift
    /// let span: NamedMiddleware<URL, Page> = { stage, url, next in
    ///     try await tracer.span("\(stage) \(url)") { try await next(url) }
    /// }
    /// let pages = Pipeline(urls) | op.map(fetch).around(withStage: span).named("fetch")     // spans "fetch …"
    /// let built = Flow<URL, Page> { Map(fetch).named("fetch").around(withStage: span) }     // the same
    /// op.map(parse).around { stage, line, next in
    ///     log.debug("\(stage): \(line)")
    ///     return try await next(line)
    /// }
    /// ```
    ///
    /// - Parameter middleware: Called once per item (per attempt, inside a later `retry`) with the
    ///   stage's name, the item and `next`.
    /// - Returns: The flow as one stage with the middleware as its outermost layer so far.
    public func around(withStage middleware: @escaping NamedMiddleware<Input, Output>) -> Flow<Input, Output> {
        modifyingPolicies("around") { body, _ in
            body.layers.append(InvocationLayer { x, invocation, next in try await middleware(invocation.stage, x, next) })
        }
    }
}
