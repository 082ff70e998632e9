// `op.distinct` and `Distinct`: drop items already seen, within a bounded window of keys.
import SluiceExecutor

extension op {
    /// Emits each item whose value was not among the last `window` distinct values seen.
    ///
    /// ```swift
    /// Pipeline([1, 2, 1, 3, 2]) | op.distinct()     // 1, 2, 3
    /// ```
    ///
    /// Memory is bounded: the stage holds at most `window` values, evicting the oldest first (FIFO,
    /// by first sighting; seeing a held value again does not refresh it). A value evicted from the
    /// window may pass again. A `distinct` stage always has one worker.
    ///
    /// - Parameter window: How many distinct values to remember; at least 1 (a precondition).
    /// - Returns: A one-stage flow of kind `distinct`.
    @inlinable
    public static func distinct<A: Hashable>(window: Int = 10_000) -> Flow<A, A> {
        distinctFlow(window, kernel: Kernels.distinct(by: { (x: A) in x }, window: window))
    }

    /// Emits each item whose key was not among the last `window` distinct keys seen.
    ///
    /// ```swift
    /// op.distinct(by: { (user: User) in user.id })
    /// ```
    ///
    /// Memory is bounded: the stage holds at most `window` keys, evicting the oldest first (FIFO,
    /// by first sighting). An item whose key was evicted may pass again.
    ///
    /// - Parameters:
    ///   - key: Called once per item, in order. An error it throws fails the run with a
    ///     `StageFailure` naming the stage and the item.
    ///   - window: How many distinct keys to remember; at least 1 (a precondition).
    /// - Returns: A one-stage flow of kind `distinct`.
    @inlinable
    public static func distinct<A, K: Hashable & Sendable>(by key: @escaping @Sendable (A) throws -> K, window: Int = 10_000) -> Flow<A, A> {
        distinctFlow(window, kernel: Kernels.distinct(by: key, window: window))
    }
}

/// Drops items already seen, within a bounded window (builder style; same stage as `op.distinct`).
///
/// ```swift
/// Flow<URL, URL> { Distinct() }
/// ```
public struct Distinct<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `distinct` stage on the items themselves; holds at most `window` values (FIFO eviction).
    ///
    /// ```swift
    /// Distinct<Int>(window: 1_000)
    /// ```
    ///
    /// - Parameter window: How many distinct values to remember; at least 1 (a precondition).
    @inlinable
    public init(window: Int = 10_000) where Element: Hashable {
        flow = op.distinct(window: window)
    }

    /// A `distinct` stage on a key of each item; holds at most `window` keys (FIFO eviction).
    ///
    /// ```swift
    /// Distinct(by: { (user: User) in user.id })
    /// ```
    ///
    /// - Parameters:
    ///   - key: Called once per item. An error it throws fails the run with a `StageFailure`
    ///     naming the stage and the item.
    ///   - window: How many distinct keys to remember; at least 1 (a precondition).
    @inlinable
    public init<K: Hashable & Sendable>(by key: @escaping @Sendable (Element) throws -> K, window: Int = 10_000) {
        flow = op.distinct(by: key, window: window)
    }
}

/// The keys a `distinct` stage remembers: at most `window`, the oldest evicted first.
@usableFromInline
package struct RecentKeys<Key: Hashable> {
    @usableFromInline var members: Set<Key> = []
    /// The held keys in first-sighting order, as a ring once it has `window` of them.
    @usableFromInline var order: [Key] = []
    /// The oldest key's index in `order` once the ring is full.
    @usableFromInline var oldest = 0
    @usableFromInline let window: Int

    @inlinable
    init(window: Int) {
        self.window = window
    }

    /// Remembers `key`; `false` if it was already held.
    @inlinable
    mutating func insert(_ key: Key) -> Bool {
        guard members.insert(key).inserted else { return false }
        if order.count < window {
            order.append(key)
        } else {
            members.remove(order[oldest])
            order[oldest] = key
            oldest = oldest + 1 == window ? 0 : oldest + 1
        }
        return true
    }
}

extension Kernels {
    /// The `distinct` kernel, specialized where it is built.
    @inlinable
    package static func distinct<A: Sendable, K: Hashable & Sendable>(by key: @escaping @Sendable (A) throws -> K, window: Int) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let name = context.name, stop = context.stop, seen = Box(RecentKeys<K>(window: window))
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    if seen.value.insert(try callSync(key, x, stage: name)) { output.append(x) }
                }
            }
        }
    }
}

/// A one-stage `distinct` flow; rejects a window below 1.
@usableFromInline
package func distinctFlow<A: Sendable>(_ window: Int, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    require(window >= 1, "distinct window must be >= 1, got \(window) (stage 'distinct')")
    return sequentialFlow(.distinct, kernel: kernel)
}
