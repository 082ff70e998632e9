// Shared helpers for the resilience and observability tests.
import Sluice
import SluiceTestSupport
import Testing

/// An error worth retrying.
struct Transient: Error, Equatable {}
/// An error not worth retrying.
struct Permanent: Error, Equatable {}

/// Per-key call counts, thread-safe (how many attempts each item got).
final class Attempts: Sendable {
    private let counters = Recorder<Int>()

    /// Records a call for `key`; returns how many calls `key` has had, this one included.
    @discardableResult
    func next(_ key: Int) -> Int {
        counters.record(key)
        return counters.all.filter { $0 == key }.count
    }

    func count(_ key: Int) -> Int { counters.all.filter { $0 == key }.count }
    var total: Int { counters.all.count }
}

/// Lets `count` sleeps on `clock` finish, one at a time: waits until something sleeps, then
/// advances the clock by exactly what it asked for.
func advanceThroughSleeps(_ clock: TestClock, count: Int) async {
    for _ in 0..<count {
        await clock.waitForSleepers(1)
        clock.advance(by: clock.sleeps.last!)
    }
}

/// The standard error of an exit test, as text.
func resilienceStderr(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

/// A compact label for an event, for comparing sequences.
func label<Item>(_ event: StageEvent<Item>) -> String {
    switch event.kind {
    case .started: "started"
    case .retried(let attempt, _, _): "retried(\(attempt))"
    case .succeeded(_, let attempts): "succeeded(\(attempts))"
    case .failed(let failure, _): "failed(\(failure.attempts))"
    case .cancelled: "cancelled"
    }
}
