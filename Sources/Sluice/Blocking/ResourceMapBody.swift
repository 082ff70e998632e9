// `map(using:)`: a map whose workers each own a resource, created when the worker starts and torn
// down exactly once when it ends (normally, on error, on cancellation).
import SluiceExecutor

/// The resource of one worker. Created, used and torn down by that worker's task only.
final class WorkerResource<Resource> {
    var value: Resource?
}

package struct ResourceMapBody<Resource, A: Sendable, B: Sendable>: StageBody {
    package var create: @Sendable () async throws -> Resource
    package var teardown: @Sendable (Resource) async -> Void
    package var transform: @Sendable (Resource, A) async throws -> B

    package func makeAsyncSink(_ downstream: AsyncSink<B>, context: StageContext) -> AsyncSink<A> {
        let slot = WorkerResource<Resource>()
        let name = context.name, run = context.run, push = downstream.push
        let create = create, teardown = teardown, transform = transform
        context.scope.onStart {
            // A worker that starts after the run stopped has nothing to do: open nothing.
            if run.isStopped || Task.isCancelled { throw CancellationError() }
            do {
                slot.value = try await create()
            } catch {
                throw StageFailure.wrap(error, stage: name, item: nil)
            }
        }
        context.scope.onExit {
            guard let resource = slot.value else { return }
            slot.value = nil
            await teardown(resource)
        }
        return AsyncSink(
            push: { x in
                guard let resource = slot.value else { preconditionFailure("stage '\(name)': no resource") }
                let y: B
                do {
                    y = try await transform(resource, x)
                } catch {
                    throw StageFailure.wrap(error, stage: name, item: x)
                }
                try await push(y)
            },
            finish: downstream.finish)
    }
}

extension StageNode {
    package static func map<Resource, A: Sendable, B: Sendable>(
        using create: @escaping @Sendable () async throws -> Resource,
        teardown: @escaping @Sendable (Resource) async -> Void,
        _ transform: @escaping @Sendable (Resource, A) async throws -> B
    ) -> StageNode {
        StageNode(kind: "map", body: ResourceMapBody(create: create, teardown: teardown, transform: transform))
    }
}
