// Typed `buildExpression` overloads for the components that enter the railway, so `$0` works in
// `TryMap { … }` / `TryFlatMap { … }` while the element type is still the flow's `Input`.
//
// Only the entering components get one (DESIGN §4: every overload is tried on every statement).
// The others take a `Result` stream, so they follow a type change and need a spelled parameter.

extension FlowBuilder {
    public static func buildExpression<O>(_ stage: TryMap<Input, O>) -> Flow<Input, Result<O, StageFailure>> { stage.flow }
    public static func buildExpression<O>(_ stage: TryFlatMap<Input, O>) -> Flow<Input, Result<O, StageFailure>> { stage.flow }
}
