// `map`: one output per input.
import SluiceExecutor

package struct MapBody<A: Sendable, B: Sendable>: StageBody {
    package var transform: Transform<A, B>
    /// The chunk kernel, built where `A` and `B` are concrete (sync closures only).
    package var kernel: (@Sendable (StageContext) -> ChunkKernel<A, B>)?

    package init(transform: Transform<A, B>, kernel: (@Sendable (StageContext) -> ChunkKernel<A, B>)? = nil) {
        self.transform = transform
        self.kernel = kernel
    }

    package var isFusible: Bool { transform.isSync }

    package func makeKernel(context: StageContext) -> ChunkKernel<A, B>? { kernel?(context) }

    package func makeSyncSink(_ downstream: SyncSink<B>, context: StageContext) -> SyncSink<A> {
        guard case .sync(let f) = transform else { preconditionFailure() }
        let name = context.name, push = downstream.push
        return SyncSink(push: { x in try push(try callSync(f, x, stage: name)) }, finish: downstream.finish)
    }

    package func makeAsyncSink(_ downstream: AsyncSink<B>, context: StageContext) -> AsyncSink<A> {
        let t = transform, name = context.name, push = downstream.push
        return AsyncSink(push: { x in try await push(try await t.callAsync(x, stage: name)) }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func map<A, B: Sendable>(_ transform: Transform<A, B>) -> StageNode {
        StageNode(kind: "map", body: MapBody(transform: transform))
    }
}

extension Kernels {
    /// The `map` kernel, specialized where it is built.
    @inlinable
    package static func map<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) throws -> B) -> @Sendable (StageContext) -> ChunkKernel<A, B> {
        { context in
            let name = context.name, run = context.run
            return ChunkKernel { input, output in
                for x in input {
                    if run.isStopped { throw CancellationError() }
                    output.append(try callSync(f, x, stage: name))
                }
            }
        }
    }
}

/// A one-stage synchronous `map` flow with its specialized kernel.
@usableFromInline
package func mapFlow<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) throws -> B, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, B>) -> Flow<A, B> {
    Flow(StageNode(kind: "map", body: MapBody(transform: .sync(f), kernel: kernel)))
}
