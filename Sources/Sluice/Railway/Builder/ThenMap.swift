// `ThenMap`: the builder component for `op.thenMap` (transforms successes, failures pass).
import SluiceExecutor

/// Transforms each success; failures pass unchanged; a thrown error turns the item into a failure
/// (same stage as `op.thenMap`). After a type change, spell the closure's parameter type.
///
/// ```swift
/// Flow<URL, Result<Row, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenMap { (page: Page) in try parse(page) }
/// }
/// ```
public struct ThenMap<Success: Sendable, NewSuccess: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Result<NewSuccess, StageFailure>>

    public init(_ transform: @escaping @Sendable (Success) throws -> NewSuccess) {
        flow = op.thenMap(transform)
    }

    public init(_ transform: @escaping @Sendable (Success) async throws -> NewSuccess) {
        flow = op.thenMap(transform)
    }
}
