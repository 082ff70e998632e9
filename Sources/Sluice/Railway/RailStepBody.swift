// The railway stages with at most one output per input: tryMap, thenMap, thenFilter, thenForEach.
import SluiceExecutor

/// A railway stage that emits at most one output per input. `route` decides whether the item
/// reaches the user's closure (a success, or any item for `tryMap`) or passes (a failure); `output`
/// turns the closure's outcome into the stage's output, or `nil` to drop the item (`thenFilter`).
///
/// The stage's name is known only when a run builds the sink (after `named(_:)` and group
/// prefixes), which is why the failure is made here and not in the closure given to `op`.
package struct RailStepBody<In: Sendable, Argument: Sendable, Value, Out: Sendable>: StageBody {
    package typealias Input = In
    package typealias Output = Out

    package var transform: Transform<Argument, Value>
    package var route: @Sendable (In) -> RailRoute<Argument, Out>
    package var output: @Sendable (In, Result<Value, StageFailure>) -> Out?
    /// For a stage with exactly one output per item (`tryMap`): its asynchronous kernel, and the
    /// per-item function for a stage name, both built where the types are concrete.
    package var asyncKernel: (maker: AsyncKernelMaker<In, Out>, item: @Sendable (String) -> @Sendable (In) async throws -> Out)?

    package func makeAsyncKernel(context: StageContext) -> AsyncChunkKernel<In, Out>? {
        guard let asyncKernel else { return nil }
        return asyncKernel.maker.make(context, asyncKernel.item(context.name), wrapsErrors: false)
    }

    package var isFusible: Bool { transform.isSync }
    package var acceptsSynchronousPrefix: Bool { asyncKernel != nil }

    /// The synchronous form: one railway step per item, checking the stop signal first.
    package func makeKernel(context: StageContext) -> ChunkKernel<In, Out>? {
        guard let f = transform.sync else { return nil }
        let name = context.name, stop = context.stop, route = self.route, output = self.output
        return ChunkKernel { input, outputs in
            try consume(&input, stop: stop) { x in
                switch route(x) {
                case .pass(let y):
                    outputs.append(y)
                case .call(let a):
                    if let y = output(x, try Attempt.sync(f, a, stage: name)) { outputs.append(y) }
                }
            }
        }
    }

    package func makeAsyncSink(_ downstream: AsyncSink<Out>, context: StageContext) -> AsyncSink<In> {
        let f = transform, name = context.name, push = downstream.push, route = self.route, output = self.output
        return AsyncSink(
            push: { x in
                switch route(x) {
                case .pass(let y):
                    try await push(y)
                case .call(let a):
                    if let y = output(x, try await Attempt.async(f, a, stage: name)) { try await push(y) }
                }
            },
            finish: downstream.finish)
    }
}
