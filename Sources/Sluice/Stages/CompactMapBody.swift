// `compactMap`: one output per input, or none when the transform returns nil.
import SluiceExecutor

package struct CompactMapBody<A: Sendable, B: Sendable>: StageBody {
    package var transform: Transform<A, B?>

    package var isFusible: Bool { transform.isSync }

    package func makeSyncSink(_ downstream: SyncSink<B>, context: StageContext) -> SyncSink<A> {
        guard case .sync(let f) = transform else { preconditionFailure() }
        let name = context.name, push = downstream.push
        return SyncSink(push: { x in if let y = try callSync(f, x, stage: name) { try push(y) } }, finish: downstream.finish)
    }

    package func makeAsyncSink(_ downstream: AsyncSink<B>, context: StageContext) -> AsyncSink<A> {
        let t = transform, name = context.name, push = downstream.push
        return AsyncSink(push: { x in if let y = try await t.callAsync(x, stage: name) { try await push(y) } }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func compactMap<A, B: Sendable>(_ transform: Transform<A, B?>) -> StageNode {
        StageNode(kind: "compactMap", body: CompactMapBody(transform: transform))
    }
}
