// What an observer of a stage hears about each item: started, retried, succeeded, failed, cancelled.

/// One thing that happened to one item in one stage, delivered to `observe(_:)`.
///
/// For every item an observed stage handles, the events are, in order: `started`, zero or more
/// `retried`, then exactly one of `succeeded`, `failed` or `cancelled`. Events of different items
/// interleave when the stage has several workers.
///
/// ```swift
/// op.map(fetch).retry(.attempts(3)).observe { event in
///     if case .retried(let attempt, let delay, let error) = event.kind {
///         print("[\(event.stage)] \(event.item): attempt \(attempt) failed (\(error)), retrying in \(delay)")
///     }
/// }
/// ```
public struct StageEvent<Item: Sendable>: Sendable, CustomStringConvertible {
    /// What happened.
    public enum Kind: Sendable {
        /// The stage started on the item (before any middleware, retry or timeout).
        case started
        /// Attempt `attempt` (1-based) failed with `error`; the next attempt starts after `delay`.
        case retried(attempt: Int, delay: Duration, error: any Error)
        /// The stage finished the item after `attempts` attempts, in `duration` (wall time, all
        /// attempts and backoff included).
        case succeeded(duration: Duration, attempts: Int)
        /// The stage gave up on the item. `failure` is what the run (or the railway) gets.
        case failed(StageFailure, duration: Duration)
        /// The run stopped (another item failed, the consumer stopped early, or the caller was
        /// cancelled) while the stage was working on the item.
        case cancelled(duration: Duration)
    }

    /// The stage's name.
    public var stage: String
    /// The item the stage was given.
    public var item: Item
    /// What happened to it.
    public var kind: Kind
    /// What the stage emitted for the item, on `succeeded` (empty otherwise): one output for `map`,
    /// none or one for `filter` and `compactMap`, any number for `flatMap`. Read them typed with
    /// `outputs(as:)`.
    public var outputs: [any Sendable]

    /// Creates an event. Only a stage makes them (for its observers), so this is for the
    /// package's own tests.
    @usableFromInline
    package init(stage: String, item: Item, kind: Kind, outputs: [any Sendable] = []) {
        self.stage = stage
        self.item = item
        self.kind = kind
        self.outputs = outputs
    }

    /// The stage's outputs for the item as `type` (see `outputs`), so an after-hook can read what
    /// the stage made without a middleware.
    ///
    /// ```swift
    /// op.map(fetch).observe { event in
    ///     if case .succeeded = event.kind, let page = event.outputs(as: Page.self).first {
    ///         print("\(event.item): \(page.body.count) bytes")
    ///     }
    /// }
    /// ```
    ///
    /// - Parameter type: The stage's output type.
    /// - Returns: The outputs of that type, in order.
    public func outputs<T>(as type: T.Type) -> [T] {
        outputs.compactMap { $0 as? T }
    }

    /// `[fetch] 42 started`, `[fetch] 42 attempt 1 failed: timed out; retrying in 0.1 seconds`, …
    public var description: String {
        let head = "[\(stage)] \(item)"
        switch kind {
        case .started:
            return "\(head) started"
        case .retried(let attempt, let delay, let error):
            return "\(head) attempt \(attempt) failed: \(error); retrying in \(delay)"
        case .succeeded(let duration, let attempts):
            return "\(head) succeeded in \(duration)" + (attempts > 1 ? " after \(attempts) attempts" : "")
        case .failed(let failure, let duration):
            return "\(head) failed in \(duration): \(failure)"
        case .cancelled(let duration):
            return "\(head) cancelled after \(duration)"
        }
    }
}
