// A watchdog that gives up on work that hangs, without waiting for it: unlike `withDeadline`
// (a task group, which must await its children), a hung run cannot hang the caller.
import SluiceExecutor

/// Runs `work` in a task of its own and returns its result, or `nil` if it has not finished after
/// `seconds`. A task that did not finish is cancelled and abandoned (a test reports it as a hang).
///
/// It is the one place the tests create an unstructured task on purpose: awaiting a hung task,
/// even a cancelled one, would hang the test too. Like `withDeadline`, it is not synchronisation:
/// work that does not hang never meets the timer.
public func withWatchdog<T: Sendable>(
    seconds: Double,
    _ work: @escaping @Sendable () async -> T
) async -> T? {
    let outcome = FirstOutcome<T>()
    let worker = Task { outcome.settle(await work()) }
    let timer = Task {
        do {
            try await ContinuousClock().sleep(for: .seconds(seconds))
            outcome.settle(nil)
        } catch {}   // cancelled: the work finished first
    }
    let result = await outcome.value()
    timer.cancel()
    if result == nil { worker.cancel() }
    return result
}

/// The first of several outcomes; later ones are ignored.
private final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var settled = false
        var value: T??
        var waiter: CheckedContinuation<T?, Never>?
    }
    private let state = Lock(State())

    func settle(_ value: T?) {
        let waiter = state.withLock { s -> CheckedContinuation<T?, Never>? in
            if s.settled { return nil }
            s.settled = true
            s.value = .some(value)
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: value)
    }

    func value() async -> T? {
        await withCheckedContinuation { (c: CheckedContinuation<T?, Never>) in
            let ready = state.withLock { s -> T?? in
                if let v = s.value { return .some(v) }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}
