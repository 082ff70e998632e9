// `.observe { event in … }`: per-item events of a stage, for logs, metrics and traces.

/// Receives a stage's events. It cannot throw, so it cannot break the run; it may be async (the
/// worker awaits it, so keep it quick or hand the event off).
///
/// ```swift
/// let log: StageObserver<URL> = { event in print(event) }
/// ```
public typealias StageObserver<Item: Sendable> = @Sendable (StageEvent<Item>) async -> Void

/// Receives a stage's events without suspending: the worker calls it inline, with no async call
/// per event. `observe` takes one whenever the closure has no `await` in it.
///
/// ```swift
/// let count: SynchronousStageObserver<URL> = { event in counter.add(event) }
/// ```
public typealias SynchronousStageObserver<Item: Sendable> = @Sendable (StageEvent<Item>) -> Void

extension FlowComponent {
    /// Calls `observer` for every item the stage handles: `started`, each `retried`, then
    /// `succeeded`, `failed` or `cancelled` (see `StageEvent`).
    ///
    /// Observers see the stage as a whole, wherever `observe` is written among `around`, `retry`
    /// and `timeout`: `started` comes before the outermost layer, the outcome after it. Several
    /// observers are called in the order they were added, one after the other.
    ///
    /// ```swift
    /// op.map(fetch).retry(.attempts(3)).observe { event in
    ///     switch event.kind {
    ///     case .succeeded(let duration, _): latency.record(duration)
    ///     case .failed(let failure, _): log.error("\(failure)")
    ///     default: break
    ///     }
    /// }
    /// Map(fetch).observe { print($0) }
    /// ```
    ///
    /// A closure with `await` in it is asynchronous; without, it is synchronous
    /// (`observe(_:)` with a `SynchronousStageObserver`, called inline and cheaper per event).
    ///
    /// - Parameter observer: Called with each event, awaited by the worker.
    /// - Returns: The flow as one stage with the observer added.
    public func observe(_ observer: @escaping StageObserver<Input>) -> Flow<Input, Output> {
        modifyingPolicies("observe") { body, _ in
            body.observers.append(ObserverEntry(observer))
        }
    }

    /// Calls the synchronous `observer` for every item the stage handles, as `observe(_:)` with an
    /// asynchronous one does, but inline in the worker: no async call per event. Swift picks this
    /// overload for a closure without `await`.
    ///
    /// ```swift
    /// let failures = Counter()   // a Sendable counter, say on a Mutex
    /// Map(parse).observe { event in
    ///     if case .failed = event.kind { failures.increment() }
    /// }
    /// ```
    ///
    /// - Parameter observer: Called with each event, by the worker, before it goes on.
    /// - Returns: The flow as one stage with the observer added.
    public func observe(_ observer: @escaping SynchronousStageObserver<Input>) -> Flow<Input, Output> {
        modifyingPolicies("observe") { body, _ in
            body.observers.append(ObserverEntry(synchronous: observer))
        }
    }
}
