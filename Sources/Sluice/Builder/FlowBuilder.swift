// `@FlowBuilder<Input>`: the builder front end. It only builds `Flow` values.
//
// Type-checking notes (see Docs/TypeChecking.md): statements are checked one at a time, so the builder is generic
// over the flow's input. The `buildExpression` overloads typed with `Input` let `$0` work while the
// element type is still `Input`; the disfavoured catch-all takes any other component (after a type
// change, spell the closure's parameter type).

/// Builds a `Flow<Input, Output>` from statements, one stage (or fragment) per line.
///
/// ```swift
/// let ingest = Flow<URL, Page> {
///     Map(fetch).workers(8)
///     Filter(isValid)
///     Map(parse)
/// }
/// ```
///
/// `Input` is the flow's input type. Statements are type-checked one at a time, so a stage whose
/// input is still `Input` can use `$0`; after a stage that changed the element type, spell the
/// closure's parameter type (`Map { (s: String) in … }`). The body may use `if`, `if`/`else`,
/// `switch` (every branch producing the same type) and `for` (each iteration keeping the type).
@resultBuilder
public enum FlowBuilder<Input: Sendable> {
    /// A `Map` statement whose input is the flow's `Input`, so `$0` is typed.
    public static func buildExpression<O>(_ stage: Map<Input, O>) -> Flow<Input, O> { stage.flow }
    /// A `Filter` statement whose input is the flow's `Input`, so `$0` is typed.
    public static func buildExpression(_ stage: Filter<Input>) -> Flow<Input, Input> { stage.flow }
    /// A `CompactMap` statement whose input is the flow's `Input`, so `$0` is typed.
    public static func buildExpression<O>(_ stage: CompactMap<Input, O>) -> Flow<Input, O> { stage.flow }
    /// A `FlatMap` statement whose input is the flow's `Input`, so `$0` is typed.
    public static func buildExpression<O>(_ stage: FlatMap<Input, O>) -> Flow<Input, O> { stage.flow }
    /// A `ForEach` statement whose input is the flow's `Input`, so `$0` is typed.
    public static func buildExpression(_ stage: ForEach<Input>) -> Flow<Input, Input> { stage.flow }
    /// A `Batch` statement whose input is the flow's `Input`, so `Batch(10)` needs no type.
    public static func buildExpression(_ stage: Batch<Input>) -> Flow<Input, [Input]> { stage.flow }
    /// A `Broadcast` statement whose input is the flow's `Input`, so its branches can use `$0`.
    public static func buildExpression<O>(_ stage: Broadcast<Input, O>) -> Flow<Input, O> { stage.flow }
    /// A `Route` statement whose input is the flow's `Input`, so its key and branches can use `$0`.
    public static func buildExpression<O>(_ stage: Route<Input, O>) -> Flow<Input, O> { stage.flow }
    /// An `Expand` statement whose input is the flow's `Input`.
    public static func buildExpression<O>(_ stage: Expand<Input, O>) -> Flow<Input, O> { stage.flow }
    /// A flow (for example a `Flow { … }` with modifiers) whose input is the flow's `Input`.
    public static func buildExpression<O>(_ flow: Flow<Input, O>) -> Flow<Input, O> { flow }

    /// Any other component: a named fragment, or a stage after the element type changed.
    @_disfavoredOverload
    public static func buildExpression<C: FlowComponent>(_ component: C) -> Flow<C.Input, C.Output> { component.flow }

    /// The first statement of a body.
    public static func buildPartialBlock<I, O>(first: Flow<I, O>) -> Flow<I, O> { first }

    /// Each later statement: composed after the ones before it, as with `|`.
    public static func buildPartialBlock<A, B, C>(accumulated: Flow<A, B>, next: Flow<B, C>) -> Flow<A, C> {
        accumulated | next
    }

    /// An empty body is the identity flow.
    public static func buildBlock() -> Flow<Input, Input> { Flow() }

    /// `if` without `else`: the body must keep the element type.
    public static func buildOptional<T>(_ flow: Flow<T, T>?) -> Flow<T, T> { flow ?? Flow() }

    // `if`/`else` and `switch`: see FlowBuilder+Either.swift (every branch must produce the same type).

    /// `for`: each iteration's stages run one after the other; they must keep the element type.
    public static func buildArray<T>(_ flows: [Flow<T, T>]) -> Flow<T, T> {
        Flow(nodes: flows.flatMap(\.nodes))
    }

    /// A statement inside `if #available`: the flow itself.
    public static func buildLimitedAvailability<I, O>(_ flow: Flow<I, O>) -> Flow<I, O> { flow }
}
