// A virtual clock for the package's own tests: `sleep` suspends until the test advances time,
// so retries, timeouts and progress ticks run deterministically and without real waiting.
import SluiceExecutor

/// A `Clock` whose time only moves when a test calls `advance(by:)`.
///
/// Sleepers suspend until the clock reaches their deadline (a deadline already reached returns at
/// once); sleeping is cancellable. `waitForSleepers(_:)` lets a test wait until the code under test
/// has gone to sleep, so "advance, then check" needs no real sleeps.
///
/// ```swift
/// let clock = TestClock()
/// async let result = (Pipeline([1]) | op.map(flaky).retry(.attempts(3, backoff: .fixed(.seconds(1))), clock: clock)).collect()
/// await clock.waitForSleepers(1)     // the first retry is waiting for its backoff
/// clock.advance(by: .seconds(1))
/// ```
public final class TestClock: Clock, Sendable {
    /// A point in virtual time: the offset from the clock's start.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock started.
        public var offset: Duration

        /// `TestClock.Instant(offset: .seconds(3))` is three virtual seconds after the start.
        public init(offset: Duration = .zero) { self.offset = offset }

        /// `clock.now.advanced(by: .seconds(1))`: one virtual second later.
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        /// `a.duration(to: b) == b.offset - a.offset`.
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        /// `t+1.5 seconds`
        public var description: String { "t+\(offset)" }
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant()
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        var requested: [Duration] = []
        var countWaiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// Waiters whose target is now met, removed from the list.
        mutating func readyCountWaiters() -> [CheckedContinuation<Void, Never>] {
            let count = sleepers.count
            let ready = countWaiters.filter { $0.target <= count }.map(\.continuation)
            countWaiters.removeAll { $0.target <= count }
            return ready
        }
    }

    private let state = Lock(State())

    /// A clock at virtual time zero, with no sleepers: `let clock = TestClock()`.
    public init() {}

    /// The virtual time: moves only with `advance(by:)`.
    public var now: Instant { state.withLock { $0.now } }
    /// Virtual time has no granularity.
    public var minimumResolution: Duration { .zero }

    /// Tasks currently sleeping on this clock.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Every sleep requested so far, as the duration from the clock's time at the call to the
    /// deadline, in call order (a retry's backoff delays, a timeout's limit, …).
    public var sleeps: [Duration] { state.withLock { $0.requested } }

    /// Suspends until `advance(by:)` reaches `deadline` (returns at once if it is already reached);
    /// throws `CancellationError` if the task is or gets cancelled.
    ///
    /// ```swift
    /// try await clock.sleep(for: .seconds(5))   // returns after the test advances 5 s
    /// ```
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            s.requested.append(s.now.duration(to: deadline))
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let (now, ready) = state.withLock { s -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= s.now { return (.success(()), []) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    return (nil, s.readyCountWaiters())
                }
                for w in ready { w.resume() }
                if let now { c.resume(with: now) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes, in deadline order, every sleeper whose deadline is reached.
    ///
    /// ```swift
    /// clock.advance(by: .seconds(1))
    /// ```
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "TestClock cannot go back in time (advance by \(duration))")
        let due = state.withLock { s -> [Sleeper] in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Suspends until at least `count` tasks are sleeping on this clock.
    ///
    /// ```swift
    /// await clock.waitForSleepers(1)   // the code under test is now waiting for its backoff
    /// ```
    public func waitForSleepers(_ count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.countWaiters.append((count, c))
                return false
            }
            if now { c.resume() }
        }
    }
}
