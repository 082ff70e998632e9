// `filter`: keeps the items the predicate accepts.
import SluiceExecutor

package struct FilterBody<A: Sendable>: StageBody {
    package var predicate: Transform<A, Bool>

    package var isFusible: Bool { predicate.isSync }

    package func makeSyncSink(_ downstream: SyncSink<A>, context: StageContext) -> SyncSink<A> {
        guard case .sync(let p) = predicate else { preconditionFailure() }
        let name = context.name, push = downstream.push
        return SyncSink(push: { x in if try callSync(p, x, stage: name) { try push(x) } }, finish: downstream.finish)
    }

    package func makeAsyncSink(_ downstream: AsyncSink<A>, context: StageContext) -> AsyncSink<A> {
        let p = predicate, name = context.name, push = downstream.push
        return AsyncSink(push: { x in if try await p.callAsync(x, stage: name) { try await push(x) } }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func filter<A>(_ predicate: Transform<A, Bool>) -> StageNode {
        StageNode(kind: "filter", body: FilterBody(predicate: predicate))
    }
}
