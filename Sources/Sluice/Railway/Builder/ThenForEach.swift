// `ThenForEach`: the builder component for `op.thenForEach` (side effect on successes).
import SluiceExecutor

/// A side effect per success; every item passes on, and a thrown error turns the item into a
/// failure (same stage as `op.thenForEach`).
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }
///     ThenForEach { (page: Page) in try archive.save(page) }
/// }
/// ```
public struct ThenForEach<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Result<Success, StageFailure>>

    public init(_ action: @escaping @Sendable (Success) throws -> Void) {
        flow = op.thenForEach(action)
    }

    public init(_ action: @escaping @Sendable (Success) async throws -> Void) {
        flow = op.thenForEach(action)
    }
}
