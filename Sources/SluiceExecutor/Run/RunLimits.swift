// A run's time limits (`timeout`, `idleTimeout`) and the watch that enforces them during one run.
import Synchronization

/// The time limits set on a pipeline: part of its `RunOptions`.
package struct RunLimits: Sendable {
    /// The longest the whole run may take, and the clock it is measured on.
    package var timeout: (Duration, @Sendable () -> Timeline)?
    /// The longest no item may move, and the clock it is measured on.
    package var idle: (Duration, @Sendable () -> Timeline)?
    /// The graceful stop the run obeys (`withGracefulStop`): its deadline stops the run.
    package var gracefulStop: GracefulStopSignal?
    /// Ends the run with an error raised outside it (an acknowledged source's failing
    /// acknowledgement); made afresh for each run by the terminal.
    package var abort: RunAbort?

    package init() {}
}

/// One run's watch over its limits. The terminal's source and consumer note activity; the watch's
/// tasks (children of the run's task group) stop the run when a limit fires, and `fired` tells the
/// runner which error to throw instead of the `CancellationError` the stop produces.
@usableFromInline
package final class RunWatch: Sendable {
    private let limits: RunLimits
    private let firedLimit = Lock<(any Error)?>(nil)
    /// The idle timeline's time of the last activity, in nanoseconds.
    private let lastActivity = Atomic<Int64>(0)
    private let idleTimeline: Timeline?

    package init(_ limits: RunLimits) {
        self.limits = limits
        idleTimeline = limits.idle.map { $0.1() }
    }

    /// The limit (a `PipelineTimeout`) or abort error that ended the run, if one did.
    package var fired: (any Error)? { firedLimit.withLock { $0 } }

    /// An item moved: read from the source, or delivered to the consumer.
    @usableFromInline
    package func noteActivity() {
        guard let idleTimeline else { return }
        lastActivity.store(Self.nanoseconds(idleTimeline.now()), ordering: .relaxed)
    }

    /// Starts the watch's tasks in the run's group.
    func start(in group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) {
        if let (limit, make) = limits.timeout {
            let timeline = make()
            group.addTask {
                try? await timeline.sleep(Swift.min(limit, Self.longest))
                if !Task.isCancelled { self.fire(PipelineTimeout(limit: .run, duration: limit), run) }
            }
        }
        if let abort = limits.abort {
            group.addTask {
                if let error = await abort.wait(), !Task.isCancelled { self.fire(error, run) }
            }
        }
        if let signal = limits.gracefulStop {
            group.addTask {
                await signal.wait()
                guard !Task.isCancelled, let deadline = signal.deadline else { return }
                let timeline = signal.makeTimeline()
                try? await timeline.sleep(Swift.min(deadline, Self.longest))
                if !Task.isCancelled { self.fire(PipelineTimeout(limit: .gracefulStop, duration: deadline), run) }
            }
        }
        if let (limit, _) = limits.idle, let timeline = idleTimeline {
            let wait = Swift.min(limit, Self.longest)
            group.addTask {
                while !Task.isCancelled {
                    let last = Duration.nanoseconds(self.lastActivity.load(ordering: .relaxed))
                    if timeline.now() - last >= wait {
                        self.fire(PipelineTimeout(limit: .idle, duration: limit), run)
                        return
                    }
                    do { try await timeline.sleep(last + wait) } catch { return }
                }
            }
        }
    }

    private func fire(_ limit: any Error, _ run: RunState) {
        let first = firedLimit.withLock { f -> Bool in
            if f != nil || run.isStopped { return false }
            f = limit
            return true
        }
        if first { run.stop() }
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }

    /// `ContinuousClock` traps on deadlines past `Int64.max` seconds; the activity time is kept
    /// in nanoseconds: a longer limit waits this long (no limit in practice: 290 years).
    private static let longest = Duration.seconds(Int64.max / 1_000_000_000 / 2)
}

/// An error raised outside a run that must end it: the first `abort(_:)` stops the run, which
/// then throws that error.
package final class RunAbort: Sendable {
    private let state = Lock<(error: (any Error)?, waiter: UnsafeContinuation<(any Error)?, Never>?, cancelled: Bool)>((nil, nil, false))

    package init() {}

    /// Ends the run with `error` (only the first call counts).
    package func abort(_ error: any Error) {
        let waiter = state.withLock { s -> UnsafeContinuation<(any Error)?, Never>? in
            guard s.error == nil else { return nil }
            s.error = error
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: error)
    }

    /// Returns the error once `abort` is called, or `nil` when the waiting task is cancelled.
    /// One waiter at a time (the run's watch).
    func wait() async -> (any Error)? {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<(any Error)?, Never>) in
                let now = state.withLock { s -> (ready: Bool, error: (any Error)?) in
                    if let error = s.error { return (true, error) }
                    if s.cancelled || Task.isCancelled { return (true, nil) }
                    s.waiter = c
                    return (false, nil)
                }
                if now.ready { c.resume(returning: now.error) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> UnsafeContinuation<(any Error)?, Never>? in
                s.cancelled = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
