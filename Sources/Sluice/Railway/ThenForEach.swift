// `op.thenForEach` and `ThenForEach`: the railway stage in both front ends.

extension op {
    /// A side effect per success; every item passes on. A thrown error turns the item into a
    /// failure.
    ///
    /// ```swift
    /// op.thenForEach { (row: Row) in try audit.append(row) }
    /// ```
    ///
    /// - Parameter action: Called once per success. An error it throws turns the item into a
    ///   `.failure` naming this stage.
    /// - Returns: A one-stage flow of kind `thenForEach`.
    public static func thenForEach<A>(_ action: @escaping @Sendable (A) throws -> Void) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenForEach(Transform.sync(action)))
    }

    /// An asynchronous side effect per success; every item passes on.
    ///
    /// ```swift
    /// op.thenForEach { (row: Row) in try await index.add(row) }
    /// ```
    ///
    /// - Parameter action: Called once per success. An error it throws turns the item into a
    ///   `.failure` naming this stage.
    /// - Returns: A one-stage flow of kind `thenForEach`.
    public static func thenForEach<A>(_ action: @escaping @Sendable (A) async throws -> Void) -> Flow<Result<A, StageFailure>, Result<A, StageFailure>> {
        Flow(.thenForEach(Transform.async(action)))
    }
}

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
    /// The one-stage flow this component stands for.
    public let flow: Flow<Result<Success, StageFailure>, Result<Success, StageFailure>>

    /// A `thenForEach` stage with a synchronous action.
    ///
    /// - Parameter action: Called once per success; an error it throws makes the item a `.failure`.
    public init(_ action: @escaping @Sendable (Success) throws -> Void) {
        flow = op.thenForEach(action)
    }

    /// A `thenForEach` stage with an asynchronous action.
    ///
    /// - Parameter action: Called once per success; an error it throws makes the item a `.failure`.
    public init(_ action: @escaping @Sendable (Success) async throws -> Void) {
        flow = op.thenForEach(action)
    }
}
