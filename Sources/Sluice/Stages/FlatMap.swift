// `op.flatMap` and `FlatMap`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// 0…N outputs per input; the sequence is streamed item by item.
    ///
    /// ```swift
    /// op.flatMap { (line: String) in line.split(separator: " ") }
    /// ```
    ///
    /// - Parameter transform: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `flatMap`.
    public static func flatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) throws -> S) -> Flow<A, S.Element> {
        Flow(.flatMap(Transform.sync(transform)))
    }

    /// 0…N outputs per input from an asynchronously computed sequence.
    ///
    /// ```swift
    /// op.flatMap { (page: Page) in try await page.links() }
    /// ```
    ///
    /// - Parameter transform: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `flatMap`.
    public static func flatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, S.Element> {
        Flow(.flatMap(Transform.async(transform)))
    }

    /// 0…N outputs per input from an `AsyncSequence`, streamed as it produces them.
    ///
    /// ```swift
    /// op.flatMap { (n: Int) in
    ///     AsyncStream<Int> { c in for i in 0..<n { c.yield(i) }; c.finish() }
    /// }
    /// ```
    ///
    /// Outputs already emitted stay emitted if iterating the sequence throws later; then the run
    /// fails.
    ///
    /// - Parameter transform: Called once per item. An error it throws, or one thrown while its
    ///   sequence is iterated, fails the run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `flatMap`.
    public static func flatMap<A, S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, S.Element> {
        Flow(.flatMap(async: transform))
    }
}

/// 0…N outputs per input, streamed (same stage as `op.flatMap`).
///
/// ```swift
/// Flow<String, Substring> { FlatMap { $0.split(separator: " ") } }
/// ```
public struct FlatMap<Input: Sendable, Output: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Output>

    /// A `flatMap` stage whose transform returns a `Sequence`.
    ///
    /// ```swift
    /// FlatMap { (line: String) in line.split(separator: " ") }
    /// ```
    ///
    /// - Parameter transform: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) throws -> S) where S.Element == Output {
        flow = op.flatMap(transform)
    }

    /// A `flatMap` stage whose asynchronous transform returns a `Sequence`.
    ///
    /// ```swift
    /// FlatMap { (page: Page) in try await page.links() }
    /// ```
    ///
    /// - Parameter transform: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    public init<S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Output {
        flow = op.flatMap(transform)
    }

    /// A `flatMap` stage whose transform returns an `AsyncSequence`, streamed as it produces items.
    ///
    /// ```swift
    /// FlatMap { (n: Int) in AsyncStream<Int> { c in for i in 0..<n { c.yield(i) }; c.finish() } }
    /// ```
    ///
    /// - Parameter transform: Called once per item. An error it throws, or one thrown while its
    ///   sequence is iterated, fails the run with a `StageFailure` naming the stage and the item.
    public init<S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (Input) async throws -> S) where S.Element == Output {
        flow = op.flatMap(transform)
    }
}

/// The closure returns a `Sequence`, synchronously or asynchronously.
package struct FlatMapSequenceBody<A: Sendable, S: Sequence>: StageBody where S.Element: Sendable {
    package typealias Output = S.Element
    package var expand: Transform<A, S>

    package func makeAsyncSink(_ downstream: AsyncSink<S.Element>, context: StageContext) -> AsyncSink<A> {
        let f = expand, name = context.name, push = downstream.push, stop = context.stop
        return AsyncSink(
            push: { x in
                for y in try await f.callAsync(x, stage: name) {
                    if stop.isSet { throw CancellationError() }
                    try await push(y)
                }
            },
            finish: downstream.finish)
    }
}

/// The closure returns an `AsyncSequence`; an error thrown while iterating it is the stage's.
package struct FlatMapAsyncSequenceBody<A: Sendable, S: AsyncSequence & Sendable>: StageBody where S.Element: Sendable {
    package typealias Output = S.Element
    package var expand: @Sendable (A) async throws -> S

    package func makeAsyncSink(_ downstream: AsyncSink<S.Element>, context: StageContext) -> AsyncSink<A> {
        let f = expand, name = context.name, push = downstream.push, stop = context.stop, scope = context.scope
        return AsyncSink(
            push: { x in
                let sequence: S
                do { sequence = try await f(x) } catch { throw StageFailure.wrap(error, stage: name, item: x) }
                var iterator = sequence.makeAsyncIterator()
                while true {
                    try await scope.flushOutputs()
                    let next: S.Element?
                    do { next = try await iterator.next() } catch { throw StageFailure.wrap(error, stage: name, item: x) }
                    guard let y = next else { return }
                    if stop.isSet { throw CancellationError() }
                    try await push(y)
                }
            },
            finish: downstream.finish)
    }
}

extension StageNode {
    package static func flatMap<A, S: Sequence>(_ expand: Transform<A, S>) -> StageNode where S.Element: Sendable {
        StageNode(kind: .flatMap, body: FlatMapSequenceBody(expand: expand))
    }

    package static func flatMap<A: Sendable, S: AsyncSequence & Sendable>(async expand: @escaping @Sendable (A) async throws -> S) -> StageNode where S.Element: Sendable {
        StageNode(kind: .flatMap, body: FlatMapAsyncSequenceBody(expand: expand))
    }
}
