// The body behind `broadcast` and `route`: a stage whose item goes into one or every branch flow,
// each branch built inside the stage's worker, their outputs merged into the stage's output.
import SluiceExecutor

/// A stage with branches. `select` picks the one branch an item goes to (`route`); `nil` sends it
/// to every branch (`broadcast`).
///
/// Branches run inside each worker of the stage, like the stages of a group: `workers(n)` on the
/// broadcast or route is how many items are in the branches at once, and the outputs keep input
/// order (`unordered()` for completion order). For one item, a broadcast's branches run at the same
/// time (when one of them is asynchronous) and their outputs leave branch by branch, in the order
/// the branches are written.
package struct BranchesBody<Input: Sendable, Output: Sendable>: StageBody, GroupBodyProtocol {
    package var branches: [[StageNode]]
    /// Each branch's label (`route`: its key; `broadcast`: its position), for descriptions.
    package var labels: [String]
    /// The branch an item goes to (`nil` from the closure: no branch matches); `nil`: every branch.
    package var select: (@Sendable (Input) -> Int?)?
    /// Describes an item's key in the failure of an item no branch matches.
    package var describeKey: (@Sendable (Input) -> String)?

    /// One group node per branch, so `stages` and diagrams show the branches.
    package var nodes: [StageNode] {
        zip(branches, labels).map { branch, label in
            StageNode(kind: .group, name: label, body: GroupBody<Input, Output>(nodes: branch))
        }
    }

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        let name = context.name
        if let select {
            // route: each item into its one branch, whose outputs go straight downstream.
            let tail = AsyncSink<Output>(push: downstream.push, finish: {})
            let sinks = branches.map { SinkComposer.async($0, tail: tail, context: context, as: Input.self) }
            let describe = describeKey
            return AsyncSink(
                push: { x in
                    guard let i = select(x) else {
                        throw StageFailure(stage: name, item: x, underlying: RouteError(key: describe?(x) ?? "\(x)"))
                    }
                    try await sinks[i].push(x)
                },
                finish: {
                    for s in sinks { try await s.finish() }
                    try await downstream.finish()
                })
        }
        let concurrent = branches.count > 1 && !branches.allSatisfy { $0.allSatisfy(\.isFusible) }
        if !concurrent {
            // broadcast of synchronous branches: one branch after the other, straight downstream.
            let tail = AsyncSink<Output>(push: downstream.push, finish: {})
            let sinks = branches.map { SinkComposer.async($0, tail: tail, context: context, as: Input.self) }
            return AsyncSink(
                push: { x in for s in sinks { try await s.push(x) } },
                finish: {
                    for s in sinks { try await s.finish() }
                    try await downstream.finish()
                })
        }
        // broadcast with an asynchronous branch: the branches work on the item at the same time, each
        // in a child task, into its own collection; the outputs then leave in branch order. Each
        // branch has a scope of its own (its setup and teardown run with the worker's), so a branch
        // never hands over the worker's outputs from its child task.
        let parts = branches.map { branch -> (sink: AsyncSink<Input>, collected: Box<[Output]>) in
            let collected = Box<[Output]>([])
            let scope = WorkerScope()
            var branchContext = context
            branchContext.scope = scope
            context.scope.onStart { try await scope.start() }
            context.scope.onExit { await scope.exit() }
            let sink = SinkComposer.async(
                branch, tail: AsyncSink<Output>(push: { collected.value.append($0) }, finish: {}),
                context: branchContext, as: Input.self)
            return (sink, collected)
        }
        let push = downstream.push
        let forward: () async throws -> Void = {
            for part in parts {
                defer { part.collected.value.removeAll(keepingCapacity: true) }
                for y in part.collected.value { try await push(y) }
            }
        }
        return AsyncSink(
            push: { x in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for part in parts {
                        // Unchecked transfer, proven: each branch's sink and collection are used by
                        // this one child task, while the worker does nothing but await the group
                        // (its own uses are before `addTask` and after the group ends).
                        let sink = UnsafeTransfer(part.sink)
                        group.addTask { try await sink.value.push(x) }
                    }
                    // The first branch to fail fails the item; the others are cancelled.
                    while try await group.next() != nil {}
                }
                try await forward()
            },
            finish: {
                for part in parts { try await part.sink.finish() }
                try await forward()
                try await downstream.finish()
            })
    }
}

/// The error of an item that no branch of a `route` matches (and the route has no `default`).
///
/// ```swift
/// do { _ = try await (Pipeline(["gif"]) | op.route(by: { $0 }, ["png": op.map { $0 }])).collect() }
/// catch let failure as StageFailure { print(failure.underlying) }   // no branch for key gif
/// ```
public struct RouteError: Error, Sendable, CustomStringConvertible {
    /// The item's key, as text.
    public var key: String
    /// `no branch for key <key>`.
    public var description: String { "no branch for key \(key)" }
}

extension Flow {
    /// A flow of one branching stage.
    static func branching(_ kind: StageKind, _ branches: [Flow<Input, Output>], labels: [String],
                          select: (@Sendable (Input) -> Int?)?, describeKey: (@Sendable (Input) -> String)?) -> Flow {
        let body = BranchesBody<Input, Output>(branches: branches.map(\.nodes), labels: labels, select: select, describeKey: describeKey)
        let sequential = branches.contains { $0.nodes.contains(where: \.isSequential) }
        return Flow(StageNode(kind: kind, isSequential: sequential, body: body))
    }
}
