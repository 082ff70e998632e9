// The form of a stage that acts on time as well as on items (`batch(n, within:)`, `debounce`) or
// reads its input ahead of its output (a buffer that drops when full): its kernel, its clock, and
// how its input is buffered. The executor runs such a stage as a segment of its own (see
// `TimedSegmentWorker`).

/// A clock, erased to durations since the start of one run: what a timed kernel reads and waits on.
package struct Timeline: Sendable {
    /// The time since the timeline was made.
    package let now: @Sendable () -> Duration
    /// Suspends until `now()` has reached the given offset; throws `CancellationError` when the
    /// waiting task is cancelled.
    package let sleep: @Sendable (Duration) async throws -> Void

    /// A timeline on `clock`, starting now.
    package init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        now = { origin.duration(to: clock.now) }
        sleep = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
    }
}

/// What a timed stage's input buffer does when it is full.
package enum Overflow: Sendable, Hashable {
    /// The reader waits for room: backpressure (the default of every stage).
    case wait
    /// The oldest waiting item is dropped to make room for the new one.
    case dropOldest
    /// The new item is dropped.
    case dropNewest
}

/// One run's state of a timed stage, used by its single worker only.
///
/// The worker calls `receive` for each item in order with the time it is processed, calls `fire`
/// whenever `deadline()` has been reached, and `finish` at the end of the input. Every function
/// appends its outputs; an error thrown by `receive` fails the run with that error (the body wraps
/// it as a `StageFailure` naming the item).
package struct TimedKernel<Input, Output> {
    package var timeline: Timeline
    /// Items the stage may hold read ahead of its processing; when full, `overflow` decides.
    package var capacity: Int
    package var overflow: Overflow
    /// Called for each item dropped by a full buffer (from the reading task: it must be Sendable).
    package var onDrop: (@Sendable (Input) -> Void)?
    package var receive: (Input, Duration, inout [Output]) throws -> Void
    /// The time at which `fire` must be called (`nil`: nothing is waiting for time).
    package var deadline: () -> Duration?
    package var fire: (Duration, inout [Output]) throws -> Void
    package var finish: (inout [Output]) throws -> Void

    package init(
        timeline: Timeline, capacity: Int, overflow: Overflow = .wait, onDrop: (@Sendable (Input) -> Void)? = nil,
        receive: @escaping (Input, Duration, inout [Output]) throws -> Void,
        deadline: @escaping () -> Duration? = { nil },
        fire: @escaping (Duration, inout [Output]) throws -> Void = { _, _ in },
        finish: @escaping (inout [Output]) throws -> Void = { _ in }
    ) {
        self.timeline = timeline
        self.capacity = Swift.max(1, capacity)
        self.overflow = overflow
        self.onDrop = onDrop
        self.receive = receive
        self.deadline = deadline
        self.fire = fire
        self.finish = finish
    }
}

/// A body whose stage is run by `TimedSegmentWorker`: always a segment of its own, one worker.
/// It cannot run inside a group or a fused segment (the front end rejects such flows).
package protocol TimedStageBody: StageBody {
    /// A fresh kernel (fresh state, a timeline starting now) for one run.
    func makeTimedKernel(context: StageContext) -> TimedKernel<Input, Output>
    /// The capacity of the stage's output channel, when the body decides it (`nil`: the plan's).
    /// A buffer that drops hands over through a rendezvous, so what waits is what it may drop.
    var outputCapacity: Int? { get }
    /// The capacity of the stage's inbox (what its reader holds ahead of the worker), when the
    /// body decides it (`nil`: one chunk of the plan's take limit). A buffer that drops holds its
    /// size there.
    var inboxCapacity: Int? { get }
}

extension TimedStageBody {
    package var isFusible: Bool { false }
    package var outputCapacity: Int? { nil }
    package var inboxCapacity: Int? { nil }

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        preconditionFailure("stage '\(context.name)' acts on time and runs as a segment of its own; it cannot be part of a group")
    }
}
