// `CompactMap`: the builder component for `op.compactMap`.
import SluiceExecutor

/// One output per input, or none when the transform returns nil (same stage as `op.compactMap`).
///
/// ```swift
/// Flow<String, Int> { CompactMap { Int($0) } }
/// ```
public struct CompactMap<Input: Sendable, Output: Sendable>: FlowComponent {
    public let flow: Flow<Input, Output>

    @inlinable
    public init(_ transform: @escaping @Sendable (Input) throws -> Output?) {
        flow = op.compactMap(transform)
    }

    public init(_ transform: @escaping @Sendable (Input) async throws -> Output?) {
        flow = op.compactMap(transform)
    }
}
