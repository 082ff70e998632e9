// The two spellings of a map with a per-worker resource: `op.map(using:teardown:_:)` and
// `Map(using:teardown:_:)`. One overload each: a synchronous body converts to the async one.
import SluiceExecutor

extension op {
    /// One output per input, computed with a resource each worker owns: a client, a parser, a
    /// database handle. Each worker calls `create` once before its first item and `teardown` once
    /// when it ends — after the last item, on an error, or on cancellation.
    ///
    /// ```swift
    /// op.map(using: { try await DatabaseClient.connect() },
    ///        teardown: { await $0.close() }) { client, id in
    ///     try await client.fetchRow(id)
    /// }
    /// .workers(4)       // four connections, each used by one worker, one item at a time
    /// ```
    ///
    /// - `create` may be async and may throw; a throw fails the run with a `StageFailure` naming
    ///   the stage (its `item` is `nil`).
    /// - The resource never leaves its worker, so it need not be `Sendable`; the closures must be
    ///   `@Sendable` because the stage is shared between runs and workers.
    /// - Per worker, not per thread: a worker may resume on another thread after a suspension.
    ///
    /// - Parameters:
    ///   - create: Makes one worker's resource, before its first item.
    ///   - teardown: Releases one worker's resource when the worker ends; does nothing by default.
    ///   - transform: Called once per item with the worker's resource. An error it throws fails the
    ///     run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `map`.
    public static func map<Resource, A, B>(
        using create: @escaping @Sendable () async throws -> Resource,
        teardown: @escaping @Sendable (Resource) async -> Void = { _ in },
        _ transform: @escaping @Sendable (Resource, A) async throws -> B
    ) -> Flow<A, B> {
        Flow(.map(using: create, teardown: teardown, transform))
    }
}

extension Map {
    /// One output per input, computed with a resource each worker owns (builder style; the same
    /// stage as `op.map(using:teardown:_:)`).
    ///
    /// ```swift
    /// Flow<String, Row> {
    ///     Map(using: { CSVParser() }) { parser, line in try parser.parse(line) }
    ///         .workers(2)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - create: Makes one worker's resource, before its first item.
    ///   - teardown: Releases one worker's resource when the worker ends; does nothing by default.
    ///   - transform: Called once per item with the worker's resource. An error it throws fails the
    ///     run with a `StageFailure` naming the stage and the item.
    public init<Resource>(
        using create: @escaping @Sendable () async throws -> Resource,
        teardown: @escaping @Sendable (Resource) async -> Void = { _ in },
        _ transform: @escaping @Sendable (Resource, Input) async throws -> Output
    ) {
        flow = op.map(using: create, teardown: teardown, transform)
    }
}

package struct ResourceMapBody<Resource, A: Sendable, B: Sendable>: StageBody {
    package var create: @Sendable () async throws -> Resource
    package var teardown: @Sendable (Resource) async -> Void
    package var transform: @Sendable (Resource, A) async throws -> B

    package func makeAsyncSink(_ downstream: AsyncSink<B>, context: StageContext) -> AsyncSink<A> {
        // The resource of this worker: created, used and torn down by its task only.
        let slot = Box<Resource?>(nil)
        let name = context.name, stop = context.stop, push = downstream.push
        let create = create, teardown = teardown, transform = transform
        context.scope.onStart {
            // A worker that starts after the run stopped has nothing to do: open nothing.
            if stop.isSet || Task.isCancelled { throw CancellationError() }
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
        StageNode(kind: .map, body: ResourceMapBody(create: create, teardown: teardown, transform: transform))
    }
}
