// `MapFailure`: the builder component for `op.mapFailure` (the failure handler).
import SluiceExecutor

/// Transforms each failure as it passes; successes pass unchanged; a throwing handler fails the run
/// (same stage as `op.mapFailure`). Spell the success type: `MapFailure<Page> { … }`.
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }
///     MapFailure<Page> { failure in log.warning("\(failure)"); return failure }
/// }
/// ```
public struct MapFailure<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Result<Success, StageFailure>>

    public init(_ transform: @escaping @Sendable (StageFailure) throws -> StageFailure) {
        flow = op.mapFailure(transform)
    }

    public init(_ transform: @escaping @Sendable (StageFailure) async throws -> StageFailure) {
        flow = op.mapFailure(transform)
    }
}
