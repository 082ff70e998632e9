// `op.dropFirst` / `DropFirst` and `op.drop(while:)` / `DropWhile`: skip the first items.
import SluiceExecutor

extension op {
    /// Skips the first `count` items and emits the rest.
    ///
    /// ```swift
    /// Pipeline(1...5) | op.dropFirst(2)     // 3, 4, 5
    /// ```
    ///
    /// A `dropFirst` stage counts across items, so it always has one worker.
    ///
    /// - Parameter count: How many items to skip; `0` or more (a precondition).
    /// - Returns: A one-stage flow of kind `dropFirst`.
    @inlinable
    public static func dropFirst<A>(_ count: Int) -> Flow<A, A> {
        dropFirstFlow(count, kernel: Kernels.dropFirst(count))
    }

    /// Skips items while `predicate` holds, then emits the first item it rejects and every item
    /// after it (the predicate is not called again).
    ///
    /// ```swift
    /// Pipeline([1, 2, 5, 1]) | op.drop { (x: Int) in x < 3 }     // 5, 1
    /// ```
    ///
    /// - Parameter predicate: Called once per item, in order, until it first returns `false`. An
    ///   error it throws fails the run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `drop`.
    @inlinable
    public static func drop<A>(while predicate: @escaping @Sendable (A) throws -> Bool) -> Flow<A, A> {
        dropWhileFlow(kernel: Kernels.drop(while: predicate))
    }
}

/// Skips the first items (builder style; same stage as `op.dropFirst`).
///
/// ```swift
/// Flow<String, String> { DropFirst(1) }     // skip a header line
/// ```
public struct DropFirst<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `dropFirst` stage.
    ///
    /// ```swift
    /// DropFirst<String>(1)
    /// ```
    ///
    /// - Parameter count: How many items to skip; `0` or more (a precondition).
    @inlinable
    public init(_ count: Int) {
        flow = op.dropFirst(count)
    }
}

/// Skips items while a predicate holds (builder style; same stage as `op.drop(while:)`).
///
/// ```swift
/// Flow<String, String> { DropWhile { $0.hasPrefix("#") } }
/// ```
public struct DropWhile<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `drop(while:)` stage.
    ///
    /// ```swift
    /// DropWhile { (line: String) in line.hasPrefix("#") }
    /// ```
    ///
    /// - Parameter predicate: Called once per item until it first returns `false`. An error it
    ///   throws fails the run with a `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ predicate: @escaping @Sendable (Element) throws -> Bool) {
        flow = op.drop(while: predicate)
    }
}

extension Kernels {
    /// The `dropFirst` kernel, specialized where it is built.
    @inlinable
    package static func dropFirst<A: Sendable>(_ count: Int) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let stop = context.stop, skipped = Box(0)
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    if skipped.value < count {
                        skipped.value += 1
                    } else {
                        output.append(x)
                    }
                }
            }
        }
    }

    /// The `drop(while:)` kernel, specialized where it is built.
    @inlinable
    package static func drop<A: Sendable>(while predicate: @escaping @Sendable (A) throws -> Bool) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let name = context.name, stop = context.stop, dropping = Box(true)
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    if dropping.value {
                        if try callSync(predicate, x, stage: name) { return }
                        dropping.value = false
                    }
                    output.append(x)
                }
            }
        }
    }
}

/// A one-stage `dropFirst` flow; rejects a negative count.
@usableFromInline
package func dropFirstFlow<A: Sendable>(_ count: Int, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    require(count >= 0, "dropFirst count must be >= 0, got \(count) (stage 'dropFirst')")
    return sequentialFlow(.dropFirst, kernel: kernel)
}

/// A one-stage `drop(while:)` flow.
@usableFromInline
package func dropWhileFlow<A: Sendable>(kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    sequentialFlow(.drop, kernel: kernel)
}
