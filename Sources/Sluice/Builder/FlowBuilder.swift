// `@FlowBuilder<Input>`: the builder front end. It only builds `Flow` values.
//
// Type-checking notes (DESIGN §4): statements are checked one at a time, so the builder is generic
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
@resultBuilder
public enum FlowBuilder<Input: Sendable> {
    public static func buildExpression<O>(_ stage: Map<Input, O>) -> Flow<Input, O> { stage.flow }
    public static func buildExpression(_ stage: Filter<Input>) -> Flow<Input, Input> { stage.flow }
    public static func buildExpression<O>(_ stage: CompactMap<Input, O>) -> Flow<Input, O> { stage.flow }
    public static func buildExpression<O>(_ stage: FlatMap<Input, O>) -> Flow<Input, O> { stage.flow }
    public static func buildExpression(_ stage: ForEach<Input>) -> Flow<Input, Input> { stage.flow }
    public static func buildExpression(_ stage: Batch<Input>) -> Flow<Input, [Input]> { stage.flow }
    public static func buildExpression<O>(_ flow: Flow<Input, O>) -> Flow<Input, O> { flow }

    /// Any other component: a named fragment, or a stage after the element type changed.
    @_disfavoredOverload
    public static func buildExpression<C: FlowComponent>(_ component: C) -> Flow<C.Input, C.Output> { component.flow }

    public static func buildPartialBlock<I, O>(first: Flow<I, O>) -> Flow<I, O> { first }

    public static func buildPartialBlock<A, B, C>(accumulated: Flow<A, B>, next: Flow<B, C>) -> Flow<A, C> {
        accumulated | next
    }

    /// An empty body is the identity flow.
    public static func buildBlock() -> Flow<Input, Input> { Flow() }

    /// `if` without `else`: the body must keep the element type.
    public static func buildOptional<T>(_ flow: Flow<T, T>?) -> Flow<T, T> { flow ?? Flow() }

    // `if`/`else` and `switch`: see FlowEither.swift (every branch must produce the same type).

    /// `for`: each iteration's stages run one after the other; they must keep the element type.
    public static func buildArray<T>(_ flows: [Flow<T, T>]) -> Flow<T, T> {
        Flow(nodes: flows.flatMap(\.nodes))
    }

    public static func buildLimitedAvailability<I, O>(_ flow: Flow<I, O>) -> Flow<I, O> { flow }
}
