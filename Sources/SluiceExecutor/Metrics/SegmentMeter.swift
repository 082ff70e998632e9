// The instruments of one segment (the stages that share a task) in a measured run: its workers'
// probes and its output channel's occupancy.
import Synchronization

/// Created by the recorder when the executor starts a segment; each worker takes a probe from it.
package final class SegmentMeter: Sendable {
    let stageCount: Int
    let capacity: Int
    /// Items the output channel holds right now (queued or parked).
    private let level: @Sendable () -> Int
    private let highWater = Atomic<Int>(0)
    private let probes = Lock<[WorkerProbe]>([])

    init<Element>(stages: Int, output: Channel<Element>) {
        stageCount = stages
        capacity = output.capacity
        level = { output.buffered }
    }

    /// A new worker's probe, registered for snapshots.
    package func makeProbe() -> WorkerProbe {
        let probe = WorkerProbe(stages: stageCount, segment: self)
        probes.withLock { $0.append(probe) }
        return probe
    }

    var workers: [WorkerProbe] { probes.withLock { $0 } }

    /// Reads the output channel's level and raises the high-water mark. Parked items count up to
    /// the capacity: beyond it they are the sender's, waiting for room.
    @discardableResult
    func sampleBuffer() -> Int {
        let now = Swift.min(level(), capacity)
        var seen = highWater.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = highWater.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        return now
    }

    var highWaterMark: Int { highWater.load(ordering: .relaxed) }
}
