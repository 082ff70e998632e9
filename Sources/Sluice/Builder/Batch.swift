// `Batch`: the builder component for `op.batch`.
import SluiceExecutor

/// Groups consecutive items into arrays of up to `size` (same stage as `op.batch`).
/// After a stage that changed the element type, spell it: `Batch<String>(10)`.
///
/// ```swift
/// Flow<Int, [Int]> { Batch(100) }
/// ```
public struct Batch<Element: Sendable>: FlowComponent {
    public let flow: Flow<Element, [Element]>

    public init(_ size: Int) {
        flow = op.batch(size)
    }
}
