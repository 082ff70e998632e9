// `TryFlatMap`: the builder component for `op.tryFlatMap` (enters the railway, 0…N per input).
import SluiceExecutor

/// 0…N successes per input, streamed; an error becomes one failure after the successes already
/// emitted (same stage as `op.tryFlatMap`).
///
/// ```swift
/// Flow<Page, Result<URL, StageFailure>> { TryFlatMap { try $0.links() } }
/// ```
public struct TryFlatMap<Input: Sendable, Success: Sendable>: FlowComponent {
    public let flow: Flow<Input, Result<Success, StageFailure>>

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) throws -> S) where S.Element == Success {
        flow = op.tryFlatMap(transform)
    }

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Success {
        flow = op.tryFlatMap(transform)
    }

    public init<S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Success {
        flow = op.tryFlatMap(transform)
    }
}
