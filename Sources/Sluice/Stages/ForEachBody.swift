// `forEach`: a side effect per item; the item passes on unchanged.
import SluiceExecutor

package struct ForEachBody<A: Sendable>: StageBody {
    package var action: Transform<A, Void>

    package var isFusible: Bool { action.isSync }

    package func makeSyncSink(_ downstream: SyncSink<A>, context: StageContext) -> SyncSink<A> {
        guard case .sync(let f) = action else { preconditionFailure() }
        let name = context.name, push = downstream.push
        return SyncSink(push: { x in try callSync(f, x, stage: name); try push(x) }, finish: downstream.finish)
    }

    package func makeAsyncSink(_ downstream: AsyncSink<A>, context: StageContext) -> AsyncSink<A> {
        let f = action, name = context.name, push = downstream.push
        return AsyncSink(push: { x in try await f.callAsync(x, stage: name); try await push(x) }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func forEach<A>(_ action: Transform<A, Void>) -> StageNode {
        StageNode(kind: "forEach", body: ForEachBody(action: action))
    }
}
