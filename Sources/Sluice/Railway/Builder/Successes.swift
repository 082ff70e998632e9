// `Successes`: the builder component for `op.successes()` (leaves the railway, drops failures).
import SluiceExecutor

/// Keeps the successes, unwrapped; drops the failures (same stage as `op.successes()`).
/// Spell the success type: `Successes<Page>()`.
///
/// ```swift
/// Flow<URL, Page> {
///     TryMap { try fetch($0) }
///     Successes<Page>()
/// }
/// ```
public struct Successes<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Success>

    public init() {
        flow = op.successes()
    }
}
