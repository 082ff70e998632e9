// `ThenFilter`: the builder component for `op.thenFilter` (filters successes, failures pass).
import SluiceExecutor

/// Keeps the successes the predicate accepts; failures always pass (same stage as
/// `op.thenFilter`).
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenFilter { (page: Page) in page.isHTML }
/// }
/// ```
public struct ThenFilter<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Result<Success, StageFailure>>

    public init(_ isIncluded: @escaping @Sendable (Success) throws -> Bool) {
        flow = op.thenFilter(isIncluded)
    }

    public init(_ isIncluded: @escaping @Sendable (Success) async throws -> Bool) {
        flow = op.thenFilter(isIncluded)
    }
}
