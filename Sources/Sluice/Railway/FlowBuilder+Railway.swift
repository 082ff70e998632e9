// Typed `buildExpression` overloads for the components that enter the railway, so `$0` works in
// `TryMap { … }` / `TryFlatMap { … }` while the element type is still the flow's `Input`.
//
// Only the entering components get one (every overload is tried on every statement).
// The others take a `Result` stream, so they follow a type change and need a spelled parameter.

extension FlowBuilder {
    /// A `TryMap` statement while the element type is still the flow's `Input`, so `$0` works.
    public static func buildExpression<O>(_ stage: TryMap<Input, O>) -> Flow<Input, Result<O, StageFailure>> { stage.flow }
    /// A `TryFlatMap` statement while the element type is still the flow's `Input`, so `$0` works.
    public static func buildExpression<O>(_ stage: TryFlatMap<Input, O>) -> Flow<Input, Result<O, StageFailure>> { stage.flow }
}
