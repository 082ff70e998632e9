// `Failures`: the builder component for `op.failures()` (keeps only the failures).
import SluiceExecutor

/// Keeps the failures; drops the successes (same stage as `op.failures()`).
/// Spell the success type: `Failures<Page>()`.
///
/// ```swift
/// Flow<URL, StageFailure> {
///     TryMap { try fetch($0) }
///     Failures<Page>()
/// }
/// ```
public struct Failures<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, StageFailure>

    public init() {
        flow = op.failures()
    }
}
