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
    /// The output channel's weight bound (`nil`: by count only), its weight now, and the most seen.
    let maxWeight: Int?
    private let weightLevel: @Sendable () -> Int
    private let weightHighWater = Atomic<Int>(0)
    private let probes = Lock<[WorkerProbe]>([])

    init<Element>(stages: Int, output: Channel<Element>, maxWeight: Int? = nil) {
        stageCount = stages
        capacity = output.capacity
        level = { output.buffered }
        self.maxWeight = maxWeight
        weightLevel = { output.queuedWeight }
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
        Self.raise(highWater, to: now)
        if maxWeight != nil { Self.raise(weightHighWater, to: weightLevel()) }
        return now
    }

    /// Reads the output channel's weight (under a weight bound) and raises its high-water mark.
    func sampleWeight() -> Int {
        let now = weightLevel()
        Self.raise(weightHighWater, to: now)
        return now
    }

    private static func raise(_ mark: borrowing Atomic<Int>, to now: Int) {
        var seen = mark.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = mark.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    var highWaterMark: Int { highWater.load(ordering: .relaxed) }
    var weightHighWaterMark: Int { weightHighWater.load(ordering: .relaxed) }
}
