// A thread-safe counter that tests can also wait on ("until at least n").
import SluiceExecutor

/// Counts events from any task; `wait(atLeast:)` suspends until the count reaches a value.
public final class Counter: Sendable {
    private struct State {
        var value = 0
        var nextID = 0
        var waiters: [(id: Int, target: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var cancelled: Set<Int> = []
    }
    private let state = Lock(State())

    public init() {}

    public var value: Int { state.withLock { $0.value } }

    /// Adds `n` and returns the new value.
    @discardableResult
    public func increment(by n: Int = 1) -> Int {
        let (value, ready) = state.withLock { s -> (Int, [CheckedContinuation<Void, Never>]) in
            s.value += n
            let ready = s.waiters.filter { $0.target <= s.value }.map(\.continuation)
            s.waiters.removeAll { $0.target <= s.value }
            return (s.value, ready)
        }
        for c in ready { c.resume() }
        return value
    }

    /// Suspends until the count is at least `target`, or until the task is cancelled (so that a
    /// `withDeadline` around a test that would hang can end it).
    public func wait(atLeast target: Int) async {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.value >= target || s.cancelled.remove(id) != nil { return true }
                    s.waiters.append((id, target, c))
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if let i = s.waiters.firstIndex(where: { $0.id == id }) { return s.waiters.remove(at: i).continuation }
                s.cancelled.insert(id)   // cancelled before it registered: it returns at once
                return nil
            }
            waiter?.resume()
        }
        state.withLock { _ = $0.cancelled.remove(id) }
    }
}

/// A thread-safe list of events, in the order they were recorded.
public final class Recorder<Event: Sendable>: Sendable {
    private let events = Lock<[Event]>([])

    public init() {}

    public func record(_ event: Event) { events.withLock { $0.append(event) } }
    public var all: [Event] { events.withLock { $0 } }
}

/// The maximum of a value that goes up and down (e.g. concurrent calls in flight).
public final class HighWater: Sendable {
    private let state = Lock<(current: Int, max: Int)>((0, 0))

    public init() {}

    @discardableResult
    public func enter() -> Int {
        state.withLock { s in
            s.current += 1
            s.max = Swift.max(s.max, s.current)
            return s.current
        }
    }

    public func leave() { state.withLock { $0.current -= 1 } }
    public var current: Int { state.withLock { $0.current } }
    public var max: Int { state.withLock { $0.max } }
}
