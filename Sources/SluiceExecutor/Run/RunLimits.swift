// A run's time limits (`timeout`, `idleTimeout`) and the watch that enforces them during one run.
import Synchronization

/// The time limits set on a pipeline: part of its `RunOptions`.
package struct RunLimits: Sendable {
    /// The longest the whole run may take, and the clock it is measured on.
    package var timeout: (Duration, @Sendable () -> Timeline)?
    /// The longest no item may move, and the clock it is measured on.
    package var idle: (Duration, @Sendable () -> Timeline)?

    package init() {}
}

/// One run's watch over its limits. The terminal's source and consumer note activity; the watch's
/// tasks (children of the run's task group) stop the run when a limit fires, and `fired` tells the
/// runner which error to throw instead of the `CancellationError` the stop produces.
package final class RunWatch: Sendable {
    private let limits: RunLimits
    private let firedLimit = Lock<PipelineTimeout?>(nil)
    /// The idle timeline's time of the last activity, in nanoseconds.
    private let lastActivity = Atomic<Int64>(0)
    private let idleTimeline: Timeline?

    package init(_ limits: RunLimits) {
        self.limits = limits
        idleTimeline = limits.idle.map { $0.1() }
    }

    /// The limit that ended the run, if one did.
    package var fired: PipelineTimeout? { firedLimit.withLock { $0 } }

    /// An item moved: read from the source, or delivered to the consumer.
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

    private func fire(_ limit: PipelineTimeout, _ run: RunState) {
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
