// `op.prefix` and `Prefix`: the first items of the stream, then the upstream stops.
import SluiceExecutor

extension op {
    /// Emits the first `count` items, then completes: the stages before it are halted and the
    /// source is no longer read, and the run ends normally (also on an endless source).
    ///
    /// ```swift
    /// Pipeline(1...) | op.prefix(3)     // 1, 2, 3
    /// ```
    ///
    /// `prefix(0)` emits nothing and completes on the first item it is given. A `prefix` stage
    /// always has one worker. Stages before it may have processed up to one chunk more than it
    /// needed.
    ///
    /// - Parameter count: How many items to emit; `0` or more (a precondition).
    /// - Returns: A one-stage flow of kind `prefix`.
    @inlinable
    public static func prefix<A>(_ count: Int) -> Flow<A, A> {
        prefixFlow(count, kernel: Kernels.prefix(count))
    }

    /// Emits items while `predicate` holds; at the first item for which it is false (not emitted),
    /// completes: the upstream is halted and the run ends normally.
    ///
    /// ```swift
    /// op.prefix { (x: Int) in x < 10 }
    /// ```
    ///
    /// - Parameter predicate: Called once per item, in order, until it first returns `false`. An
    ///   error it throws fails the run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `prefix`.
    @inlinable
    public static func prefix<A>(while predicate: @escaping @Sendable (A) throws -> Bool) -> Flow<A, A> {
        prefixWhileFlow(kernel: Kernels.prefix(while: predicate))
    }
}

/// The first items of the stream (builder style; same stage as `op.prefix`).
///
/// ```swift
/// Flow<Int, Int> { Prefix(10) }
/// ```
public struct Prefix<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `prefix` stage emitting the first `count` items.
    ///
    /// ```swift
    /// Prefix<String>(100)
    /// ```
    ///
    /// - Parameter count: How many items to emit; `0` or more (a precondition).
    @inlinable
    public init(_ count: Int) {
        flow = op.prefix(count)
    }

    /// A `prefix` stage emitting items while `predicate` holds.
    ///
    /// ```swift
    /// Prefix { (x: Int) in x < 10 }
    /// ```
    ///
    /// - Parameter predicate: Called once per item until it first returns `false`. An error it
    ///   throws fails the run with a `StageFailure` naming the stage and the item.
    @inlinable
    public init(while predicate: @escaping @Sendable (Element) throws -> Bool) {
        flow = op.prefix(while: predicate)
    }
}

extension Kernels {
    /// The `prefix(n)` kernel: throws `StageCompleted` once it has emitted `count` items.
    @inlinable
    package static func prefix<A: Sendable>(_ count: Int) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let stop = context.stop, emitted = Box(0)
            return ChunkKernel { input, output in
                if emitted.value >= count { throw StageCompleted() }
                try consume(&input, stop: stop) { x in
                    output.append(x)
                    emitted.value += 1
                    if emitted.value >= count { throw StageCompleted() }
                }
            }
        }
    }

    /// The `prefix(while:)` kernel: throws `StageCompleted` at the first item `predicate` rejects.
    @inlinable
    package static func prefix<A: Sendable>(while predicate: @escaping @Sendable (A) throws -> Bool) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let name = context.name, stop = context.stop, done = Box(false)
            return ChunkKernel { input, output in
                if done.value { throw StageCompleted() }
                try consume(&input, stop: stop) { x in
                    guard try callSync(predicate, x, stage: name) else {
                        done.value = true
                        throw StageCompleted()
                    }
                    output.append(x)
                }
            }
        }
    }
}

/// A one-stage `prefix(n)` flow; rejects a negative count.
@usableFromInline
package func prefixFlow<A: Sendable>(_ count: Int, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    require(count >= 0, "prefix count must be >= 0, got \(count) (stage 'prefix')")
    return sequentialFlow(.prefix, kernel: kernel)
}

/// A one-stage `prefix(while:)` flow.
@usableFromInline
package func prefixWhileFlow<A: Sendable>(kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    sequentialFlow(.prefix, kernel: kernel)
}
