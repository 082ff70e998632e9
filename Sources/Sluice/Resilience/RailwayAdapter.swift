// How policies see a railway stage (`try…`, `then…`): a failure value its closure produced is a
// failed attempt (so it can be retried), and the final failure goes back on the rails.
import SluiceExecutor

/// A railway item: `Result<T, StageFailure>`.
package protocol RailValue: CarriesFailure {
    var railFailure: StageFailure? { get }
    static func railFailure(_ failure: StageFailure) -> Self
}

extension Result: RailValue, CarriesFailure where Failure == StageFailure {
    package var railFailure: StageFailure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }

    /// Lets a measured run count the railway failures a stage produces.
    package var carriedFailure: StageFailure? { railFailure }

    package static func railFailure(_ failure: StageFailure) -> Result { .failure(failure) }
}

/// The railway view of a stage whose outputs are `Result<T, StageFailure>`.
package struct RailwayAdapter<Input: Sendable, Output: Sendable>: Sendable {
    /// An input that is already a failure passes the stage untouched: no attempt, no event.
    package let isPassing: @Sendable (Input) -> Bool
    /// The failure an output carries, if it is one.
    package let failure: @Sendable (Output) -> StageFailure?
    /// The output that puts `failure` back on the rails.
    package let output: @Sendable (StageFailure) -> Output

    /// `nil` unless the stage's output is a railway item and the stage is a railway stage that
    /// calls a closure (`tryMap`, `thenMap`, …) or a fragment (whose railway stages are inside).
    package init?(kind: StageKind) {
        guard kind.stepsOnRailway || kind == .group,
              Output.self is any RailValue.Type else { return nil }
        isPassing = { ($0 as? any RailValue)?.railFailure != nil }
        failure = { ($0 as? any RailValue)?.railFailure }
        output = { (Output.self as! any RailValue.Type).railFailure($0) as! Output }
    }
}
