// The railway's flatMap stages (tryFlatMap, thenFlatMap): each success expands into 0…N successes.
//
// Like the plain `flatMap`, an expansion is streamed: a sub-item goes downstream before the next
// one is produced. So when an `AsyncSequence` throws mid-expansion, the sub-items already emitted
// stay emitted (as successes) and one failure for the input item follows them.
import SluiceExecutor

/// The closure returns a `Sequence`, synchronously or asynchronously. Iterating a `Sequence`
/// cannot throw, so an input gives either its successes or one failure.
package struct RailExpandBody<In: Sendable, A: Sendable, S: Sequence>: StageBody where S.Element: Sendable {
    package typealias Input = In
    package typealias Output = Result<S.Element, StageFailure>

    package var expand: Transform<A, S>
    package var route: @Sendable (In) -> RailRoute<A, Output>

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<In> {
        let f = expand, name = context.name, push = downstream.push, stop = context.stop, route = self.route
        return AsyncSink(
            push: { x in
                switch route(x) {
                case .pass(let y):
                    try await push(y)
                case .call(let a):
                    switch try await Attempt.async(f, a, stage: name) {
                    case .failure(let failure):
                        try await push(.failure(failure))
                    case .success(let items):
                        for y in items {
                            if stop.isSet { throw CancellationError() }
                            try await push(.success(y))
                        }
                    }
                }
            },
            finish: downstream.finish)
    }
}

/// The closure returns an `AsyncSequence`; an error thrown while iterating it ends the expansion
/// with one failure after the successes already emitted.
package struct RailExpandAsyncBody<In: Sendable, A: Sendable, S: AsyncSequence & Sendable>: StageBody where S.Element: Sendable {
    package typealias Input = In
    package typealias Output = Result<S.Element, StageFailure>

    package var expand: @Sendable (A) async throws -> S
    package var route: @Sendable (In) -> RailRoute<A, Output>

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<In> {
        let f = expand, name = context.name, push = downstream.push, stop = context.stop, route = self.route
        return AsyncSink(
            push: { x in
                let a: A
                switch route(x) {
                case .pass(let y): return try await push(y)
                case .call(let argument): a = argument
                }
                let sequence: S
                switch try await Attempt.async(.async(f), a, stage: name) {
                case .failure(let failure): return try await push(.failure(failure))
                case .success(let s): sequence = s
                }
                var iterator = sequence.makeAsyncIterator()
                while true {
                    let next: S.Element?
                    do {
                        next = try await iterator.next()
                    } catch let cancellation as CancellationError {
                        throw cancellation
                    } catch {
                        return try await push(.failure(StageFailure(stage: name, item: a, underlying: error)))
                    }
                    guard let y = next else { return }
                    if stop.isSet { throw CancellationError() }
                    try await push(.success(y))
                }
            },
            finish: downstream.finish)
    }
}
