// `op.broadcast` and `Broadcast`: every item into each of several branch flows, outputs merged.
import SluiceExecutor

extension op {
    /// Sends every item to each branch and merges their outputs.
    ///
    /// ```swift
    /// let acks: Flow<Record, Ack> = op.broadcast(
    ///     op.map(writeToDatabase),
    ///     op.map(index) | op.map(Ack.indexed))
    /// ```
    ///
    /// For one item the branches run at the same time (when one of them is asynchronous), and
    /// their outputs leave branch by branch, in the order written; items keep input order unless the
    /// stage is `.unordered()`. `.workers(n)` puts `n` items into the branches at once. The stage
    /// takes its next item only when every branch is done with the current one, so backpressure
    /// follows the slowest branch. A branch's failure fails the run (its stage and item named), and
    /// the other branches stop; with railway stages in the branches, it is a failure value instead.
    ///
    /// - Parameter branches: The branch flows, at least one; each gets every item.
    /// - Returns: A one-stage flow of kind `broadcast`.
    public static func broadcast<A, B>(_ branches: Flow<A, B>...) -> Flow<A, B> {
        broadcastFlow(branches)
    }

    /// Sends every item to each branch listed in the closure, one branch per statement (see
    /// ``broadcast(_:)-(Flow<A,B>...)``).
    ///
    /// ```swift
    /// op.broadcast {
    ///     op.map(writeToDatabase)
    ///     op.map(index) | op.map(Ack.indexed)
    /// }
    /// ```
    ///
    /// - Parameter branches: The branch flows, one per statement, at least one.
    /// - Returns: A one-stage flow of kind `broadcast`.
    public static func broadcast<A, B>(@BranchBuilder<A, B> _ branches: () -> [Flow<A, B>]) -> Flow<A, B> {
        broadcastFlow(branches())
    }
}

/// Sends every item to each branch, one branch per statement (builder style; same stage as
/// `op.broadcast`).
///
/// ```swift
/// Flow<Record, Ack> {
///     Broadcast {
///         Map(writeToDatabase)
///         Flow { Map(index); Map(Ack.indexed) }
///     }.workers(4)
/// }
/// ```
public struct Broadcast<Input: Sendable, Output: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Output>

    /// A broadcast to the branches listed, one per statement.
    ///
    /// ```swift
    /// Broadcast { Map { (x: Int) in x * 2 }; Map { (x: Int) in x + 1 } }
    /// ```
    ///
    /// - Parameter branches: The branch flows, at least one.
    public init(@BranchBuilder<Input, Output> _ branches: () -> [Flow<Input, Output>]) {
        flow = broadcastFlow(branches())
    }

    /// A broadcast to the branch flows given.
    ///
    /// ```swift
    /// let write: Flow<Record, Ack> = op.map(writeToDatabase)
    /// let index: Flow<Record, Ack> = op.map(index)
    /// Flow<Record, Ack> { Broadcast(write, index) }
    /// ```
    ///
    /// - Parameter branches: The branch flows, at least one.
    public init(_ branches: Flow<Input, Output>...) {
        flow = broadcastFlow(branches)
    }
}

/// The broadcast stage both front ends build.
func broadcastFlow<A, B>(_ branches: [Flow<A, B>]) -> Flow<A, B> {
    require(!branches.isEmpty, "broadcast needs at least one branch, got 0 (stage 'broadcast')")
    return Flow.branching(.broadcast, branches, labels: branches.indices.map { "branch \($0 + 1)" }, select: nil, describeKey: nil)
}

/// Collects branch flows, one per statement: the body of `Broadcast { … }` and `op.broadcast { … }`.
///
/// ```swift
/// Broadcast<Int, Int> {
///     Map { $0 * 2 }
///     Flow { Filter { $0 > 1 }; Map { $0 + 1 } }
/// }
/// ```
@resultBuilder
public enum BranchBuilder<Input: Sendable, Output: Sendable> {
    /// A branch: any component from `Input` to `Output`.
    public static func buildExpression(_ branch: some FlowComponent<Input, Output>) -> [Flow<Input, Output>] { [branch.flow] }
    /// The branches, in order.
    public static func buildBlock(_ branches: [Flow<Input, Output>]...) -> [Flow<Input, Output>] { branches.flatMap { $0 } }
    /// A branch under `if`.
    public static func buildOptional(_ branches: [Flow<Input, Output>]?) -> [Flow<Input, Output>] { branches ?? [] }
    /// Branches under `if`/`else`.
    public static func buildEither(first branches: [Flow<Input, Output>]) -> [Flow<Input, Output>] { branches }
    /// Branches under `if`/`else`.
    public static func buildEither(second branches: [Flow<Input, Output>]) -> [Flow<Input, Output>] { branches }
    /// Branches made in a `for` loop.
    public static func buildArray(_ branches: [[Flow<Input, Output>]]) -> [Flow<Input, Output>] { branches.flatMap { $0 } }
}
