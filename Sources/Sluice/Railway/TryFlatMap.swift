// `op.tryFlatMap` and `TryFlatMap`: the railway stage in both front ends.

extension op {
    /// 0…N successes per input, streamed; if the closure throws, one failure instead.
    ///
    /// ```swift
    /// op.tryFlatMap { (page: Page) in try page.links() }   // Result<URL, StageFailure> items
    /// ```
    public static func tryFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) throws -> S) -> Flow<A, Result<S.Element, StageFailure>> {
        Flow(.tryFlatMap(Transform.sync(transform)))
    }

    /// 0…N successes per input from an asynchronously computed sequence; if the closure throws,
    /// one failure instead.
    ///
    /// ```swift
    /// op.tryFlatMap { (page: Page) in try await page.loadLinks() }
    /// ```
    public static func tryFlatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, Result<S.Element, StageFailure>> {
        Flow(.tryFlatMap(Transform.async(transform)))
    }

    /// 0…N successes per input from an `AsyncSequence`, streamed. If iterating throws, the
    /// successes already emitted stay emitted and one failure follows them (as with `op.flatMap`,
    /// which also streams).
    ///
    /// ```swift
    /// op.tryFlatMap { (file: URL) in file.lines }   // a read error ends that file with a failure
    /// ```
    public static func tryFlatMap<A, S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, Result<S.Element, StageFailure>> {
        Flow(.tryFlatMap(async: transform))
    }
}

/// 0…N successes per input, streamed; an error becomes one failure after the successes already
/// emitted (same stage as `op.tryFlatMap`).
///
/// ```swift
/// Flow<Page, Result<URL, StageFailure>> { TryFlatMap { try $0.links() } }
/// ```
public struct TryFlatMap<Input: Sendable, Success: Sendable>: FlowComponent {
    public let flow: Flow<Input, Result<Success, StageFailure>>

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) throws -> S) where S.Element == Success {
        flow = op.tryFlatMap(transform)
    }

    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Success {
        flow = op.tryFlatMap(transform)
    }

    public init<S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Success {
        flow = op.tryFlatMap(transform)
    }
}
