// `op.scan` and `Scan`: the stage in both front ends and its chunk kernel.
import SluiceExecutor

extension op {
    /// Emits every intermediate result of combining the items, starting from `initial` (like
    /// `Sequence.reductions` without the initial value, or Rx `scan`).
    ///
    /// ```swift
    /// Pipeline(1...4) | op.scan(0) { (sum: Int, x: Int) in sum + x }     // 1, 3, 6, 10
    /// ```
    ///
    /// A `scan` stage keeps state across items, so it always has one worker (`.workers(n)` with
    /// `n > 1` is rejected).
    ///
    /// - Parameters:
    ///   - initial: The accumulated value before the first item (not emitted itself).
    ///   - combine: Called once per item, in order, with the accumulated value and the item; its
    ///     result is emitted and becomes the accumulated value. An error it throws fails the run
    ///     with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `scan`.
    @inlinable
    public static func scan<A, R: Sendable>(_ initial: R, _ combine: @escaping @Sendable (R, A) throws -> R) -> Flow<A, R> {
        scanFlow(kernel: Kernels.scan(initial, combine))
    }
}

/// Emits every intermediate result of combining the items (builder style; same stage as `op.scan`).
///
/// ```swift
/// Flow<Int, Int> { Scan(0) { $0 + $1 } }
/// ```
public struct Scan<Element: Sendable, Result: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Result>

    /// A `scan` stage.
    ///
    /// ```swift
    /// Scan(0) { (sum: Int, x: Int) in sum + x }
    /// ```
    ///
    /// - Parameters:
    ///   - initial: The accumulated value before the first item (not emitted itself).
    ///   - combine: Called once per item with the accumulated value and the item; its result is
    ///     emitted and becomes the accumulated value. An error it throws fails the run with a
    ///     `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ initial: Result, _ combine: @escaping @Sendable (Result, Element) throws -> Result) {
        flow = op.scan(initial, combine)
    }
}

extension Kernels {
    /// The `scan` kernel, specialized where it is built. Each run starts again from `initial`.
    @inlinable
    package static func scan<A: Sendable, R: Sendable>(_ initial: R, _ combine: @escaping @Sendable (R, A) throws -> R) -> @Sendable (StageContext) -> ChunkKernel<A, R> {
        { context in
            let name = context.name, stop = context.stop, state = Box(initial)
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    let next = try callSync({ try combine(state.value, $0) }, x, stage: name)
                    state.value = next
                    output.append(next)
                }
            }
        }
    }
}

/// A one-stage `scan` flow with its specialized kernel.
@usableFromInline
package func scanFlow<A: Sendable, R: Sendable>(kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, R>) -> Flow<A, R> {
    sequentialFlow(.scan, kernel: kernel)
}
