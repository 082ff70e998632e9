// `map`: one output per input.
import SluiceExecutor

package struct MapBody<A: Sendable, B: Sendable>: StageBody {
    package var transform: Transform<A, B>

    package var isFusible: Bool { transform.isSync }

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
