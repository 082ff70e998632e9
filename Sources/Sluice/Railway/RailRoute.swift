// How a railway stage treats an incoming item: hand it to the user's closure, or let it pass.

/// A railway stage's decision for one input: `call` the closure with a success value, or `pass`
/// an output on unchanged (a failure travelling down the railway).
package enum RailRoute<Argument, Output> {
    case call(Argument)
    case pass(Output)
}
