// `FlowEither`: the value of an `if`/`else` or `switch` in a flow builder, before its branches
// are checked to agree (so a mismatch gets a readable message instead of "failed to produce
// diagnostic").

/// One branch of an `if`/`else` or `switch` inside `@FlowBuilder`. You never write it: the builder
/// produces it and turns it into a `Flow` when every branch has the same input and output types.
///
/// ```swift
/// Flow<Int, Int> {
///     if fast { Map { $0 * 2 } } else { Map { $0 + 1 } }   // a FlowEither, then a Flow
/// }
/// ```
public struct FlowEither<First: Sendable, Second: Sendable>: Sendable {
    enum Branch: Sendable {
        case first(First)
        case second(Second)
    }
    let branch: Branch
}

extension FlowEither {
    /// The chosen branch, when both branches are flows of the same type.
    func flow<I, O>() -> Flow<I, O> where First == Flow<I, O>, Second == Flow<I, O> {
        switch branch {
        case .first(let f): f
        case .second(let s): s
        }
    }
}

extension FlowBuilder {
    public static func buildEither<First, Second>(first: First) -> FlowEither<First, Second> {
        FlowEither(branch: .first(first))
    }

    public static func buildEither<First, Second>(second: Second) -> FlowEither<First, Second> {
        FlowEither(branch: .second(second))
    }

    /// `else if` and `switch` with more cases nest: a nested choice whose branches agree becomes a flow.
    public static func buildEither<I, O, Second>(first: FlowEither<Flow<I, O>, Flow<I, O>>) -> FlowEither<Flow<I, O>, Second> {
        FlowEither(branch: .first(first.flow()))
    }

    public static func buildEither<First, I, O>(second: FlowEither<Flow<I, O>, Flow<I, O>>) -> FlowEither<First, Flow<I, O>> {
        FlowEither(branch: .second(second.flow()))
    }

    public static func buildPartialBlock<I, O>(first: FlowEither<Flow<I, O>, Flow<I, O>>) -> Flow<I, O> {
        first.flow()
    }

    public static func buildPartialBlock<A, B, C>(accumulated: Flow<A, B>, next: FlowEither<Flow<B, C>, Flow<B, C>>) -> Flow<A, C> {
        accumulated | next.flow()
    }

    @available(*, unavailable, message: "every branch of an 'if'/'else' or 'switch' in a flow must produce the same element type (convert inside the branches, e.g. with a Map)")
    public static func buildPartialBlock<I1, O1, I2, O2>(first: FlowEither<Flow<I1, O1>, Flow<I2, O2>>) -> Flow<I1, O1> {
        fatalError("unavailable")
    }

    @available(*, unavailable, message: "every branch of an 'if'/'else' or 'switch' in a flow must produce the same element type (convert inside the branches, e.g. with a Map)")
    public static func buildPartialBlock<A, B, I1, O1, I2, O2>(accumulated: Flow<A, B>, next: FlowEither<Flow<I1, O1>, Flow<I2, O2>>) -> Flow<A, O1> {
        fatalError("unavailable")
    }
}
