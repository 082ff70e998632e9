// Sends a stage's per-item events to its observers, and counts retries when the run is measured.
import SluiceExecutor

/// An observer as a stage's policies keep it: synchronous or asynchronous.
///
/// The closure sits in an enum's payload, so it keeps the calling convention it was written
/// with. In an array of bare closures it would be stored in the most general one (its `Void`
/// result returned indirectly), and each call would go through a conversion thunk: an extra async
/// call per event (callgrind, W8 observe: about 650 instructions per item with the thunk).
/// A synchronous observer is called inline, without an async call (about 250 instructions per
/// event fewer).
@usableFromInline
package enum ObserverEntry<Item: Sendable>: Sendable {
    case synchronous(SynchronousStageObserver<Item>)
    case asynchronous(StageObserver<Item>)

    package init(_ notify: @escaping StageObserver<Item>) {
        self = .asynchronous(notify)
    }

    package init(synchronous notify: @escaping SynchronousStageObserver<Item>) {
        self = .synchronous(notify)
    }

    /// Calls the observer with `event`; awaits it only when it is asynchronous.
    @inlinable @inline(__always)
    func notify(_ event: StageEvent<Item>) async {
        switch self {
        case .synchronous(let notify): notify(event)
        case .asynchronous(let notify): await notify(event)
        }
    }

    /// The same observer for the events of `Item` erased to `any Sendable` (`observeEachStage`).
    static func erasing(_ entry: ObserverEntry<any Sendable>) -> ObserverEntry<Item> {
        switch entry {
        case .synchronous(let notify): .synchronous { event in notify(event.erased) }
        case .asynchronous(let notify): .asynchronous { event in await notify(event.erased) }
        }
    }
}

/// Sends one worker's events of one stage to its observers, and counts retries when measured.
struct Reporter<Input: Sendable> {
    let stage: String
    let observers: [ObserverEntry<Input>]
    let meter: StageCounters?

    private func send(_ item: Input, _ kind: StageEvent<Input>.Kind, outputs: [any Sendable] = []) async {
        let event = StageEvent(stage: stage, item: item, kind: kind, outputs: outputs)
        for observer in observers { await observer.notify(event) }
    }

    /// Reports the start; returns when it was (only measured when someone listens).
    func started(_ item: Input) async -> ContinuousClock.Instant? {
        guard !observers.isEmpty else { return nil }
        let now = ContinuousClock.now
        await send(item, .started)
        return now
    }

    func succeeded<Output: Sendable>(_ item: Input, outputs: [Output], since start: ContinuousClock.Instant?, attempts: Int) async {
        guard let start else { return }
        await send(item, .succeeded(duration: start.duration(to: .now), attempts: attempts), outputs: outputs)
    }

    /// `succeeded` for an item with one output (the event's outputs array is built once).
    func succeeded<Output: Sendable>(_ item: Input, output: Output, since start: ContinuousClock.Instant?, attempts: Int) async {
        guard let start else { return }
        await send(item, .succeeded(duration: start.duration(to: .now), attempts: attempts), outputs: [output])
    }

    func failed(_ item: Input, _ failure: StageFailure, since start: ContinuousClock.Instant?) async {
        guard let start else { return }
        await failed(item, failure, after: start.duration(to: .now))
    }

    func failed(_ item: Input, _ failure: StageFailure, after duration: Duration) async {
        await send(item, .failed(failure, duration: duration))
    }

    func cancelled(_ item: Input, since start: ContinuousClock.Instant?) async {
        guard let start else { return }
        await cancelled(item, after: start.duration(to: .now))
    }

    func cancelled(_ item: Input, after duration: Duration) async {
        await send(item, .cancelled(duration: duration))
    }

    /// What the retry layer calls before it waits, or `nil` when nobody needs to know.
    func onRetry(item: Input) -> ((Int, Duration, any Error) async -> Void)? {
        if observers.isEmpty && meter == nil { return nil }
        return { attempt, delay, error in
            meter?.countRetry()
            await send(item, .retried(attempt: attempt, delay: delay, error: error))
        }
    }
}

/// An observed kernel's item (see `AsyncKernelMaker.makeWithPolicies`) failed with `error` after
/// `attempts` attempts: reports it as the policy path does (`Reporter.ended`) — cancelled, or
/// failed with the stage's failure — and returns what the stage throws.
@usableFromInline
func observedEnding<Item: Sendable>(_ error: any Error, stage: String, item: Item, startedAt start: Int64, attempts: Int, observers: [ObserverEntry<Item>]) async -> any Error {
    let report = Reporter(stage: stage, observers: observers, meter: nil)
    let duration = Duration.nanoseconds(monotonicNanoseconds() - start)
    if error is CancellationError {
        await report.cancelled(item, after: duration)
        return error
    }
    let failure = StageFailure(stage: stage, item: item, underlying: error, attempts: attempts)
    await report.failed(item, failure, after: duration)
    return failure
}
