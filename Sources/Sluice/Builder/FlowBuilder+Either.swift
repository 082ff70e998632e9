// `FlowBuilder.Either`: the value of an `if`/`else` or `switch` in a flow builder, before its
// branches are checked to agree (so a mismatch gets a readable message instead of the compiler's
// generic one).

extension FlowBuilder {
    /// One branch of an `if`/`else` or `switch` inside `@FlowBuilder`. You never write it: the
    /// builder produces it and turns it into a ``Flow`` when every branch has the same input and
    /// output types.
    ///
    /// ```swift
    /// Flow<Int, Int> {
    ///     if fast { Map { $0 * 2 } } else { Map { $0 + 1 } }   // an Either, then a Flow
    /// }
    /// ```
    public struct Either<First: Sendable, Second: Sendable>: Sendable {
        enum Branch: Sendable {
            case first(First)
            case second(Second)
        }
        let branch: Branch
    }
}

extension FlowBuilder.Either {
    /// The chosen branch, when both branches are flows of the same type.
    func flow<I, O>() -> Flow<I, O> where First == Flow<I, O>, Second == Flow<I, O> {
        switch branch {
        case .first(let f): f
        case .second(let s): s
        }
    }
}

extension FlowBuilder {
    /// The `if` branch (or the first `case`) of a choice.
    ///
    /// - Parameter first: The value the branch's statements built.
    /// - Returns: The choice, to be checked against the other branch.
    public static func buildEither<First, Second>(first: First) -> Either<First, Second> {
        Either(branch: .first(first))
    }

    /// The `else` branch (or a later `case`) of a choice.
    ///
    /// - Parameter second: The value the branch's statements built.
    /// - Returns: The choice, to be checked against the other branch.
    public static func buildEither<First, Second>(second: Second) -> Either<First, Second> {
        Either(branch: .second(second))
    }

    /// `else if` and `switch` with more cases nest: a nested choice whose branches agree becomes a flow.
    ///
    /// - Parameter first: The nested choice, both of whose branches are `Flow<I, O>`.
    /// - Returns: The outer choice, holding the nested one as a flow.
    public static func buildEither<I, O, Second>(first: Either<Flow<I, O>, Flow<I, O>>) -> Either<Flow<I, O>, Second> {
        Either(branch: .first(first.flow()))
    }

    /// `else if` and `switch` with more cases nest: a nested choice whose branches agree becomes a flow.
    ///
    /// - Parameter second: The nested choice, both of whose branches are `Flow<I, O>`.
    /// - Returns: The outer choice, holding the nested one as a flow.
    public static func buildEither<First, I, O>(second: Either<Flow<I, O>, Flow<I, O>>) -> Either<First, Flow<I, O>> {
        Either(branch: .second(second.flow()))
    }

    /// A choice as the first statement: its branches agree, so it is the chosen branch's flow.
    ///
    /// - Parameter first: A choice both of whose branches are `Flow<I, O>`.
    /// - Returns: The chosen branch.
    public static func buildPartialBlock<I, O>(first: Either<Flow<I, O>, Flow<I, O>>) -> Flow<I, O> {
        first.flow()
    }

    /// A choice after other statements: its branches agree, so the chosen branch follows them.
    ///
    /// - Parameters:
    ///   - accumulated: The statements before the choice.
    ///   - next: A choice both of whose branches are `Flow<B, C>`.
    /// - Returns: `accumulated`, then the chosen branch.
    public static func buildPartialBlock<A, B, C>(accumulated: Flow<A, B>, next: Either<Flow<B, C>, Flow<B, C>>) -> Flow<A, C> {
        accumulated | next.flow()
    }

    /// Never called: it matches a first-statement choice whose branches disagree, so that the
    /// compiler reports the message below instead of a generic type-check error.
    @available(*, unavailable, message: "every branch of an 'if'/'else' or 'switch' in a flow must produce the same element type (convert inside the branches, e.g. with a Map)")
    public static func buildPartialBlock<I1, O1, I2, O2>(first: Either<Flow<I1, O1>, Flow<I2, O2>>) -> Flow<I1, O1> {
        fatalError("unavailable")
    }

    /// Never called: it matches a later choice whose branches disagree, so that the compiler
    /// reports the message below instead of a generic type-check error.
    @available(*, unavailable, message: "every branch of an 'if'/'else' or 'switch' in a flow must produce the same element type (convert inside the branches, e.g. with a Map)")
    public static func buildPartialBlock<A, B, I1, O1, I2, O2>(accumulated: Flow<A, B>, next: Either<Flow<I1, O1>, Flow<I2, O2>>) -> Flow<A, O1> {
        fatalError("unavailable")
    }
}
