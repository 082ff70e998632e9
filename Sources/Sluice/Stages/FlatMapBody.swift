// `flatMap`: 0…N outputs per input, streamed: each sub-item goes downstream (and may wait for
// room there) before the next one is produced, so an expansion is never buffered whole.
import SluiceExecutor

/// The closure returns a `Sequence`, synchronously or asynchronously.
package struct FlatMapSequenceBody<A: Sendable, S: Sequence>: StageBody where S.Element: Sendable {
    package typealias Output = S.Element
    package var expand: Transform<A, S>

    package func makeAsyncSink(_ downstream: AsyncSink<S.Element>, context: StageContext) -> AsyncSink<A> {
        let f = expand, name = context.name, push = downstream.push, run = context.run
        return AsyncSink(
            push: { x in
                for y in try await f.callAsync(x, stage: name) {
                    if run.isStopped { throw CancellationError() }
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
        let f = expand, name = context.name, push = downstream.push, run = context.run, scope = context.scope
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
                    if run.isStopped { throw CancellationError() }
                    try await push(y)
                }
            },
            finish: downstream.finish)
    }
}

extension StageNode {
    package static func flatMap<A, S: Sequence>(_ expand: Transform<A, S>) -> StageNode where S.Element: Sendable {
        StageNode(kind: "flatMap", body: FlatMapSequenceBody(expand: expand))
    }

    package static func flatMap<A: Sendable, S: AsyncSequence & Sendable>(async expand: @escaping @Sendable (A) async throws -> S) -> StageNode where S.Element: Sendable {
        StageNode(kind: "flatMap", body: FlatMapAsyncSequenceBody(expand: expand))
    }
}
