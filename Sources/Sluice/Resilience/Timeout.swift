// `.timeout(...)`: a time limit on the stage's work for one item, measured on an injectable clock.
import SluiceExecutor
import Synchronization

extension FlowComponent {
    /// Limits the stage's work on each item to `limit`, measured on `clock`.
    ///
    /// When the limit passes, the work is cancelled and the item fails with `TimeoutError` — a
    /// failure like any other: `retry` retries it (written after `timeout`, each attempt gets the
    /// full limit), and the run's `StageFailure` wraps it.
    ///
    /// Cancellation is cooperative: awaiting code that honours it (`Task.sleep`, `URLSession`,
    /// Sluice's own waits) stops at once; synchronous code, or code that never checks, is not
    /// pre-empted — the stage reports the timeout when that code returns, and discards its result.
    ///
    /// Where the work runs: when nothing in the worker can go on with the item after it times
    /// out — the timeout is the stage's last modifier (or only a `rateLimited` follows it), or an
    /// asynchronous `map` has just the timeout, a `retry` written after it and observers — the
    /// work runs in the worker's own task, and the timeout cancels that task (for a retried
    /// attempt the worker then goes on in a new task). Otherwise (a modifier written after the
    /// timeout that may go on, such as `around`; a railway stage; a stage inside a fragment that
    /// has policies of its own) each attempt runs in a child task, which the timeout cancels.
    /// Either way task-locals and the worker's executor preference are the worker's.
    ///
    /// The limit must be > 0. A huge limit (`.seconds(.max)`) means no limit in practice: the
    /// stage waits at most `.seconds(Int64.max / 2)` (about 146 billion years), a deadline every
    /// clock can represent.
    ///
    /// ```swift
    /// op.map(fetch).timeout(.seconds(2))
    /// Map(fetch).timeout(.seconds(2)).retry(.attempts(3))     // 2 s per attempt
    /// Map(fetch).retry(.attempts(3)).timeout(.seconds(5))     // 5 s for all attempts and waits
    /// ```
    ///
    /// - Parameters:
    ///   - limit: The time the stage may spend on one item; more than zero (a precondition).
    ///   - clock: The clock the limit is measured on; `ContinuousClock` unless a test injects one.
    /// - Returns: The flow as one stage with the timeout as its outermost layer so far.
    public func timeout(_ limit: Duration, clock: some Clock<Duration> = ContinuousClock()) -> Flow<Input, Output> {
        modifyingPolicies("timeout") { body, stage in
            require(limit > .zero, "timeout must be > 0, got \(limit) (stage '\(stage)')")
            body.layers.append(TimeoutLayer.make(limit, clock: clock))
        }
    }
}

/// The time limit, as a layer. Each worker has a watchdog, a task beside it that sleeps until
/// the deadline of the item in hand, so no task sleeps per item (a sleep cancelled early stays
/// registered with the clock until its deadline: memory grew with the item count), and the
/// watchdog wakes at most once per `limit` for an item that is already done.
///
/// - An asynchronous `map` whose only policies are the timeout and, maybe, a `retry` and observers
///   runs its kernel (`makeWithPolicies`, or `makeTimedAttempts` for a timeout inside a `retry`):
///   the item's work runs in the worker's own task, and a watchdog that fires interrupts that
///   task (`WorkerScope.interrupt`). That fails the item (the observers see it fail) and the
///   stage, or, for a timed-out attempt inside a `retry` that must be tried again, restarts the
///   worker's work in a new task (`WorkRestart`). No task per item.
/// - Any other stage whose outermost layer is the timeout, not on the railway and not inside an
///   enclosing stage's layers, does the same around its other layers (`PolicyBody.interruptingWatchdog`,
///   `Watchdog.guarding`): the item fails, nothing can go on with it.
/// - Otherwise (a layer outside the timeout, other than the kernel's `retry`; a railway stage; a
///   stage inside a fragment with policies), the item's work runs in a child task, and the worker
///   waits for whichever comes first, the work's end or the watchdog: something may go on after
///   a timeout in that worker's task.
/// - A worker that does not run companion tasks (a stage inside `partitioned(by:)`, a timed
///   stage's worker) races a sleep per item instead (`TimeoutLayer.racingSleep`).
enum TimeoutLayer {
    static func make<Input, Output, C: Clock<Duration>>(_ limit: Duration, clock: C) -> InvocationLayer<Input, Output> {
        let name = "timeout \(limit)"
        var layer = InvocationLayer<Input, Output>(name: name, keepsOutputs: true, perWorker: { scope in
            let watchdog = Watchdog(limit: limit, clock: clock)
            scope.runBeside(starting: { watchdog.markStarted() }) { await watchdog.run() }
            @Sendable func limited<T: Sendable>(_ x: Input, _ next: (Input) async throws -> T) async throws -> T {
                guard watchdog.isStarted else { return try await racingSleep(x, limit, clock, next) }
                return try await withoutActuallyEscaping(next) { next in
                    // `next` is not Sendable (see `racingSleep`): it runs in the child task while
                    // this task only waits for the group, which returns after the child ended.
                    let work = UnsafeTransfer(next)
                    return try await watchdog.limit { try await work.value(x) }
                }
            }
            return InvocationLayer(name: name, keepsOutputs: true, wrapOne: { x, _, next in try await limited(x, next) }) { x, _, next in
                try await limited(x, next)
            }
        }, wrapOne: { x, _, next in try await racingSleep(x, limit, clock, next) }) { x, _, next in
            try await racingSleep(x, limit, clock, next)
        }
        layer.timeout = TimeoutSpec { interrupt, resumed in Watchdog(limit: limit, clock: clock, interrupt: interrupt, resumed: resumed) }
        return layer
    }
}

extension TimeoutLayer {
    /// The timeout as a layer that runs the item's work in the worker's own task, timed by
    /// `watchdog`, which interrupts that task (see `PolicyBody.interruptingWatchdog`). One
    /// worker's: it has no per-worker form of its own.
    static func guarding<Input, Output>(by watchdog: Watchdog, name: String) -> InvocationLayer<Input, Output> {
        InvocationLayer(name: name, keepsOutputs: true, wrapOne: { x, _, next in
            try await watchdog.guarding { try await next(x) }
        }) { x, _, next in
            try await watchdog.guarding { try await next(x) }
        }
    }
}

/// Set by `timeout`: how to make a worker's watchdog that interrupts the worker's task, so that
/// an asynchronous `map` whose policies are the timeout and, maybe, a `retry` inside it and
/// observers runs its kernel (`makeWithPolicies`).
struct TimeoutSpec: Sendable {
    let makeWatchdog: @Sendable (_ interrupt: @escaping @Sendable () -> Void, _ resumed: ResumedWork?) -> Watchdog
}

/// One worker's deadline keeper (see `TimeoutLayer`). The worker arms it with the deadline of the
/// item in hand; `run`, a task beside the worker, sleeps until that deadline and, if the item is
/// still in hand then, fires: it resumes the worker waiting in `limit`, or interrupts the
/// worker's task (a kernel's item, between `begin` and `end`).
///
/// Not generic over the clock: times are durations since the watchdog was made, read through
/// closures built once (for `ContinuousClock`, compiled for it), so the per-item path has no
/// generic look-ups.
@usableFromInline
final class Watchdog: Sendable {
    private struct State {
        /// The item begun last (a serial number), its deadline, and the worker waiting for it.
        /// The deadline stays after the item ends, until the watchdog has slept until it: so a
        /// watchdog that runs late (after the item ended) sleeps until then rather than going
        /// idle at once, and items that follow, begun meanwhile, wake it no more.
        var item = 0
        var deadline: Duration?
        var worker: UnsafeContinuation<Void, Never>?
        /// The item's work ended, or the watchdog fired: the worker goes on.
        var settled = false
        var fired = false
        /// The watchdog, idle (no item in hand), waiting to be armed.
        var idle: UnsafeContinuation<Void, Never>?
        var stopped = false
    }

    /// The limit per item.
    let limit: Duration
    /// The limit as a wait every clock can represent.
    private let span: Duration
    /// The clock's time since the watchdog was made.
    private let now: @Sendable () -> Duration
    /// Sleeps on the clock until a time since the watchdog was made.
    private let sleepUntil: @Sendable (Duration) async throws -> Void
    /// Cancels the worker's task (the kernel's mode), called when an item in hand passes its deadline.
    private let interrupt: (@Sendable () -> Void)?
    private let state = Lock(State())
    private let started = Atomic<Bool>(false)
    /// After a restart: the item the worker's new work goes on with (see `takeResumed`).
    private let resumed: ResumedWork?

    init<C: Clock<Duration>>(limit: Duration, clock: C, interrupt: (@Sendable () -> Void)? = nil, resumed: ResumedWork? = nil) {
        self.limit = limit
        self.resumed = resumed
        self.span = Swift.min(limit, .longestWait)
        self.interrupt = interrupt
        if let continuous = clock as? ContinuousClock {
            let epoch = ContinuousClock.now
            now = { epoch.duration(to: .now) }
            sleepUntil = { try await continuous.sleep(until: epoch.advanced(by: $0), tolerance: nil) }
        } else {
            let epoch = clock.now
            now = { epoch.duration(to: clock.now) }
            sleepUntil = { try await clock.sleep(until: epoch.advanced(by: $0), tolerance: nil) }
        }
    }

    /// The worker is about to start `run` beside it.
    func markStarted() { started.store(true, ordering: .relaxed) }
    /// Whether the worker runs the watchdog (set before its first item).
    var isStarted: Bool { started.load(ordering: .relaxed) }

    /// An item is in hand from now: its deadline is `limit` away. Wakes an idle watchdog.
    @usableFromInline
    func begin() {
        let deadline = now() + span
        let wake = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            s.item &+= 1
            s.deadline = deadline
            s.settled = false
            s.fired = false
            defer { s.idle = nil }
            return s.idle
        }
        wake?.resume()
    }

    /// The item begun last ended (its work returned or threw). Returns whether it passed its
    /// deadline first: then the watchdog has interrupted the worker's task, and the item fails
    /// with `timedOut(stage:item:)` whatever its work returned.
    @usableFromInline
    func end() -> Bool {
        state.withLock { s in
            s.settled = true
            return s.fired
        }
    }

    /// The error an attempt past its deadline fails with.
    @usableFromInline
    var timeoutError: TimeoutError { TimeoutError(limit: limit) }

    /// After a restart of the worker's work (`WorkRestart`): the attempt the first item goes on
    /// with and when it started, once (`nil` after that, and for work that did not restart).
    @usableFromInline
    func takeResumed() -> (nextAttempt: Int, startedAt: Int64)? {
        guard let restart = resumed?.take() else { return nil }
        return (restart.nextAttempt, restart.startedAt)
    }

    /// What an interrupted kernel throws to have its work started again in a new task, with the
    /// item in hand going on with `nextAttempt` (see `WorkRestart` for the rest).
    @usableFromInline
    func restart(nextAttempt: Int, startedAt: Int64, abandoned: (@Sendable () async -> Void)?) -> any Error {
        WorkRestart(nextAttempt: nextAttempt, startedAt: startedAt, abandoned: abandoned)
    }

    /// Runs an item's `work` in this task between `begin` and `end`, for a watchdog that
    /// interrupts the task (the stage's outermost layer, see `PolicyBody.interruptingWatchdog`):
    /// past the deadline it throws `TimeoutError`, whatever the work returned or threw.
    func guarding<T>(_ work: () async throws -> T) async throws -> T {
        begin()
        let result: T
        do {
            result = try await work()
        } catch {
            if end() { throw timeoutError }
            throw error
        }
        if end() { throw timeoutError }
        return result
    }

    /// The failure of an item that passed its deadline: the stage's `TimeoutError`, after
    /// `attempts` attempts.
    @usableFromInline
    func timedOut<Item: Sendable>(stage: String, item: Item, attempts: Int = 1) -> StageFailure {
        StageFailure(stage: stage, item: item, underlying: TimeoutError(limit: limit), attempts: attempts)
    }

    /// Runs `work` in a child task with `limit` to do it; throws `TimeoutError` when the limit
    /// passes first (the work is cancelled, and awaited, before this returns).
    func limit<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        begin()
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask {
                defer { self.settle() }
                return try await work()
            }
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.settled { return true }
                    s.worker = c
                    return false
                }
                if now { c.resume() }
            }
            let fired = state.withLock { $0.fired }
            if fired {
                group.cancelAll()
                while (try? await group.next()) != nil {}
                throw TimeoutError(limit: limit)
            }
            return try await group.next()!
        }
    }

    /// The item's work ended: wake the worker if it waits.
    private func settle() {
        let worker = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            if s.settled { return nil }
            s.settled = true
            defer { s.worker = nil }
            return s.worker
        }
        worker?.resume()
    }

    /// The watchdog's loop, until its task is cancelled (the worker's work ended).
    func run() async {
        await withTaskCancellationHandler {
            while true {
                // The deadline of the item begun last, in hand or not; without one, wait to be armed.
                let armed = state.withLock { s -> (item: Int, deadline: Duration)?? in
                    if s.stopped { return .some(nil) }
                    if let d = s.deadline { return .some((s.item, d)) }
                    return nil
                }
                guard let armed else {
                    await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                        let parked = state.withLock { s -> Bool in
                            if s.stopped || s.deadline != nil { return false }
                            s.idle = c
                            return true
                        }
                        if !parked { c.resume() }
                    }
                    continue
                }
                guard let armed else { return }   // stopped
                do {
                    try await sleepUntil(armed.deadline)
                } catch {
                    return   // cancelled: the worker's work ended
                }
                let worker = state.withLock { s -> UnsafeContinuation<Void, Never>?? in
                    guard s.item == armed.item else { return nil }   // a later item: its deadline next
                    s.deadline = nil   // slept until: the next item (or none) arms the watchdog again
                    guard !s.settled else { return nil }
                    s.settled = true
                    s.fired = true
                    defer { s.worker = nil }
                    return .some(s.worker)
                }
                guard let worker else { continue }   // the item ended in time
                worker?.resume()
                interrupt?()
            }
        } onCancel: {
            let idle = state.withLock { s -> UnsafeContinuation<Void, Never>? in
                s.stopped = true
                defer { s.idle = nil }
                return s.idle
            }
            idle?.resume()
        }
    }
}


extension Duration {
    /// The longest single wait Sluice asks a clock for: `.seconds(Int64.max / 2)`, about 146 billion
    /// years. `ContinuousClock` traps on a deadline past `Int64.max` seconds, so a longer timeout or
    /// backoff delay waits this long instead (the same, in practice: forever).
    static var longestWait: Duration { .seconds(Int64.max / 2) }
}

extension TimeoutLayer {
    /// The time limit for a worker without a watchdog: `next` races a sleep on the clock in a task
    /// group; the loser is cancelled, and the group waits for it before returning.
    static func racingSleep<Input, T: Sendable, C: Clock<Duration>>(_ x: Input, _ limit: Duration, _ clock: C, _ next: (Input) async throws -> T) async throws -> T {
        try await withoutActuallyEscaping(next) { next in
            // `next` is not Sendable: it closes over the worker's state (the inner body, the
            // outputs it collects). Safe to transfer: after `addTask` this task only awaits the
            // group, and the group returns only after both children ended (`cancelAll`, then
            // the implicit wait), so `next` runs in one task at a time; task creation and
            // completion order its uses before and after. `withoutActuallyEscaping` also
            // checks, at run time, that no copy of `next` outlives this call.
            let work = UnsafeTransfer(next)
            let item = UnsafeTransfer(x)
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await work.value(item.value) }
                group.addTask {
                    try await clock.sleep(for: Swift.min(limit, .longestWait))
                    throw TimeoutError(limit: limit)
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
    }
}
