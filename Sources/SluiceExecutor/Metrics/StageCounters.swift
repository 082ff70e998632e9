// One worker's counters for one stage of a measured run: written by that worker, read by snapshots.
import Synchronization

/// Counters of one stage in one worker. The worker is the only writer of `inputs` (its own
/// increment is a relaxed load and store, no read-modify-write); snapshots read at any time.
package final class StageCounters: Sendable {
    /// Items that entered the stage.
    package let inputs = Atomic<Int>(0)
    /// Items the stage failed on (thrown, or turned into a railway failure value).
    package let failures = Atomic<Int>(0)
    /// Retries made (one per extra attempt).
    package let retries = Atomic<Int>(0)
    /// Items a buffer with a drop policy dropped (`buffer(n, whenFull:)`).
    package let dropped = Atomic<Int>(0)
    /// Nanoseconds the stage's workers waited for a rate limiter's tokens.
    package let throttled = Atomic<Int64>(0)
    /// Railway stages: whether the item being handled arrived as a failure (it then only passes).
    package let passing = Atomic<Bool>(false)

    package init() {}

    @inline(__always)
    package func countInput() {
        inputs.store(inputs.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// Adds a chunk's inputs.
    @inline(__always)
    package func countInputs(_ n: Int) {
        inputs.store(inputs.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    package func countFailures(_ n: Int) {
        failures.wrappingAdd(n, ordering: .relaxed)
    }

    package func countFailure() {
        failures.wrappingAdd(1, ordering: .relaxed)
    }

    package func countRetry() {
        retries.wrappingAdd(1, ordering: .relaxed)
    }

    package func countDrops(_ n: Int) {
        dropped.wrappingAdd(n, ordering: .relaxed)
    }

    package func countThrottled(_ d: Duration) {
        let (seconds, attoseconds) = d.components
        throttled.wrappingAdd(seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000, ordering: .relaxed)
    }
}

/// A value that may be a failure travelling as an item (the railway's `Result<T, StageFailure>`).
/// Lets a measured run count railway failures without knowing the railway.
package protocol CarriesFailure {
    var carriedFailure: StageFailure? { get }
}
