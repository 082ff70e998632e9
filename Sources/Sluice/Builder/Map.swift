// `Map`: the builder component for `op.map`.
import SluiceExecutor

/// One output per input (builder style; same stage as `op.map`).
///
/// ```swift
/// Flow<Int, String> {
///     Map { $0 * 2 }
///     Map { (x: Int) in String(x) }
/// }
/// ```
public struct Map<Input: Sendable, Output: Sendable>: FlowComponent {
    public let flow: Flow<Input, Output>

    @inlinable
    public init(_ transform: @escaping @Sendable (Input) throws -> Output) {
        flow = op.map(transform)
    }

    public init(_ transform: @escaping @Sendable (Input) async throws -> Output) {
        flow = op.map(transform)
    }
}
