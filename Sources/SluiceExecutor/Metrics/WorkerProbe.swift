// One worker's instruments in a measured run: per-stage counters, the segment's output count and
// the worker's busy time. Only exists when the run is measured.
import Synchronization

/// Owned by one worker task (the only writer); registered with its segment so snapshots can read it.
package final class WorkerProbe: Sendable {
    /// One per stage of the segment, in order.
    package let stages: [StageCounters]
    /// Items the segment's last stage emitted.
    package let outputs = Atomic<Int>(0)
    /// Time spent processing input, in nanoseconds.
    let busyNanoseconds = Atomic<Int64>(0)
    /// Set once a thrown failure has been counted: the stages it unwinds through do not count it again.
    private let failureCounted = Atomic<Bool>(false)
    let segment: SegmentMeter

    init(stages: Int, segment: SegmentMeter) {
        self.stages = (0..<stages).map { _ in StageCounters() }
        self.segment = segment
    }

    /// Call before processing input (a chunk, or one item on the async path).
    package func startBusy() -> ContinuousClock.Instant { .now }

    /// Call after processing it: adds the busy time and samples the output buffer.
    package func endBusy(since start: ContinuousClock.Instant?) {
        guard let start else { return }
        let elapsed = start.duration(to: .now)
        busyNanoseconds.store(busyNanoseconds.load(ordering: .relaxed) &+ elapsed.nanoseconds, ordering: .relaxed)
        segment.sampleBuffer()
    }

    @inline(__always)
    func countOutputs(_ n: Int = 1) {
        outputs.store(outputs.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    /// A stage's push threw `error`. The innermost stage to see a failure is where it happened
    /// (a failure further down unwinds through every stage before it): count it there, once.
    func sawError(_ error: any Error, in stage: StageCounters) {
        if error is CancellationError || error is StageCompleted || error is WorkRestart { return }
        if !failureCounted.exchange(true, ordering: .relaxed) { stage.countFailure() }
    }
}

extension Duration {
    /// Whole nanoseconds (truncated), for counters.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
