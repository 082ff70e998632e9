// `ForEach`: the builder component for `op.forEach`.
import SluiceExecutor

/// A side effect per item; the item passes on unchanged (same stage as `op.forEach`).
///
/// ```swift
/// Flow<Int, Int> { ForEach { print($0) } }
/// ```
public struct ForEach<Element: Sendable>: FlowComponent {
    public let flow: Flow<Element, Element>

    @inlinable
    public init(_ action: @escaping @Sendable (Element) throws -> Void) {
        flow = op.forEach(action)
    }

    public init(_ action: @escaping @Sendable (Element) async throws -> Void) {
        flow = op.forEach(action)
    }
}
