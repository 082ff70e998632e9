// `ThenFlatMap`: the builder component for `op.thenFlatMap` (expands successes, failures pass).
import SluiceExecutor

/// Expands each success into 0…N successes, streamed; failures pass unchanged (same stage as
/// `op.thenFlatMap`).
///
/// ```swift
/// Flow<URL, Result<URL, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenFlatMap { (page: Page) in page.links }
/// }
/// ```
public struct ThenFlatMap<Success: Sendable, NewSuccess: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Result<NewSuccess, StageFailure>>

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Success) throws -> S) where S.Element == NewSuccess {
        flow = op.thenFlatMap(transform)
    }

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Success) async throws -> S) where S.Element == NewSuccess {
        flow = op.thenFlatMap(transform)
    }

    public init<S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (Success) async throws -> S) where S.Element == NewSuccess {
        flow = op.thenFlatMap(transform)
    }
}
