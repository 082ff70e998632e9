// One item's trip through a stage's policies, and the layer type that retry, timeout and
// middleware all share: a function that gets the item and the rest of the chain (`next`).
import SluiceExecutor

/// What the layers around a stage share while they handle one item. Created per item by
/// `PolicyBody`; used by one task at a time (the worker, or a timeout's child while the worker
/// waits for it).
package final class Invocation {
    /// The stage's name, for failures and events.
    package let stage: String
    /// The worker's stop signal, so a retry stops waiting when the worker must stop.
    package let stop: StopSignal
    /// Calls of the stage's body so far: the `attempts` of the final `StageFailure`.
    package var attempts = 0
    /// The failure the stage's body reported in the latest attempt (its stage and item name the
    /// final failure; `nil` when the latest attempt ended another way, e.g. by a timeout).
    package var bodyFailure: StageFailure?
    /// Reports a retry to the metrics and the stage's observers.
    package var onRetry: ((_ attempt: Int, _ delay: Duration, _ error: any Error) async -> Void)?

    /// This worker's counters for the stage when the run is measured (a rate limiter's waits).
    package let meter: StageCounters?

    package init(stage: String, stop: StopSignal, onRetry: ((Int, Duration, any Error) async -> Void)?, meter: StageCounters? = nil) {
        self.stage = stage
        self.stop = stop
        self.onRetry = onRetry
        self.meter = meter
    }
}

/// One layer around a stage's per-item call. `next` runs the layers inside this one and, at the
/// bottom, the stage's body; it returns the outputs the stage produced for the item (one for
/// `map`, zero or one for `filter`, any number for `flatMap`). A layer may call `next` once
/// (middleware), several times (retry), in a child task (timeout), or not at all (short-circuit).
package struct InvocationLayer<Input: Sendable, Output: Sendable>: Sendable {
    package typealias Next = (Input) async throws -> [Output]
    package typealias NextOne = (Input) async throws -> Output
    package let wrap: @Sendable (Input, Invocation, Next) async throws -> [Output]
    /// The same layer around a call that makes exactly one output (a `map`'s closure), for layers
    /// that return what `next` returned (retry, timeout): no array per item.
    package var wrapOne: (@Sendable (Input, Invocation, NextOne) async throws -> Output)?
    /// What the layer is, for diagrams: `around`, `retry ×3`, `timeout 2 seconds`.
    package var name: String
    /// The layer returns what `next` returned (retry, timeout), never other outputs: a `map`
    /// with only such layers still makes exactly one output per item (and can run its kernel).
    package var keepsOutputs: Bool

    /// Makes the layer one worker uses, with state of its own (a timeout's watchdog), or `nil`:
    /// every worker shares `wrap`.
    package var perWorker: (@Sendable (WorkerScope) -> InvocationLayer<Input, Output>)?
    /// Set by `retry`: what the layer does, so that an asynchronous `map` whose only policy it is
    /// can retry inside its kernel's loop.
    package var retry: RetrySpec?
    /// Set by `timeout`: an asynchronous `map` whose only policy it is runs its kernel, timed by a
    /// watchdog that interrupts the worker's task.
    var timeout: TimeoutSpec?
    /// The layer never goes on after `next` fails: it throws what `next` threw (a rate limiter,
    /// whose wait comes before `next`). A timeout inside such layers only may interrupt the
    /// worker's task (see `PolicyBody.interruptingWatchdog`).
    package var passesFailuresOn = false

    package init(name: String = "around", keepsOutputs: Bool = false,
                 perWorker: (@Sendable (WorkerScope) -> InvocationLayer<Input, Output>)? = nil,
                 wrapOne: (@Sendable (Input, Invocation, NextOne) async throws -> Output)? = nil,
                 _ wrap: @escaping @Sendable (Input, Invocation, Next) async throws -> [Output]) {
        self.wrap = wrap
        self.name = name
        self.keepsOutputs = keepsOutputs
        self.perWorker = perWorker
        self.wrapOne = wrapOne
    }

    /// The layer as the worker owning `scope` runs it.
    package func bound(to scope: WorkerScope) -> InvocationLayer<Input, Output> {
        perWorker?(scope) ?? self
    }
}
