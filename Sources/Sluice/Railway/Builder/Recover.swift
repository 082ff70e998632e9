// `Recover`: the builder component for `op.recover` (leaves the railway: failure → value).
import SluiceExecutor

/// Replaces each failure with a value and unwraps the successes; a throwing handler fails the run
/// (same stage as `op.recover`).
///
/// ```swift
/// Flow<URL, Page> {
///     TryMap { try fetch($0) }
///     Recover { (_: StageFailure) in Page.empty }
/// }
/// ```
public struct Recover<Success: Sendable>: FlowComponent {
    public let flow: Flow<Result<Success, StageFailure>, Success>

    public init(_ transform: @escaping @Sendable (StageFailure) throws -> Success) {
        flow = op.recover(transform)
    }

    public init(_ transform: @escaping @Sendable (StageFailure) async throws -> Success) {
        flow = op.recover(transform)
    }
}
