// `TryMap`: the builder component for `op.tryMap` (enters the railway).
import SluiceExecutor

/// One output per input, as a `Result`: a thrown error becomes a `.failure` instead of failing the
/// run (same stage as `op.tryMap`).
///
/// ```swift
/// Flow<URL, Result<Page, StageFailure>> {
///     TryMap { try fetch($0) }.workers(8).named("fetch")
/// }
/// ```
public struct TryMap<Input: Sendable, Success: Sendable>: FlowComponent {
    public let flow: Flow<Input, Result<Success, StageFailure>>

    public init(_ transform: @escaping @Sendable (Input) throws -> Success) {
        flow = op.tryMap(transform)
    }

    public init(_ transform: @escaping @Sendable (Input) async throws -> Success) {
        flow = op.tryMap(transform)
    }
}
