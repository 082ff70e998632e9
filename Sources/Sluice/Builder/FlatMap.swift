// `FlatMap`: the builder component for `op.flatMap`.
import SluiceExecutor

/// 0…N outputs per input, streamed (same stage as `op.flatMap`).
///
/// ```swift
/// Flow<String, Substring> { FlatMap { $0.split(separator: " ") } }
/// ```
public struct FlatMap<Input: Sendable, Output: Sendable>: FlowComponent {
    public let flow: Flow<Input, Output>

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) throws -> S) where S.Element == Output {
        flow = op.flatMap(transform)
    }

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Output {
        flow = op.flatMap(transform)
    }

    public init<S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Output {
        flow = op.flatMap(transform)
    }
}
