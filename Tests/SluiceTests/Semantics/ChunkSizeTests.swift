// A worker's take size adapts to the work: heavy synchronous items spread over every worker of a
// stage instead of going to the first worker in one chunk.
import Dispatch
import Synchronization
import Testing
import Sluice

@Suite struct ChunkSizeTests {
    @Test func heavySynchronousItemsSpreadOverTheWorkers() async throws {
        // Item 0 blocks its worker until another item has started: only possible if the other
        // worker got some of the input (with one chunk of everything, it times out).
        let otherStarted = DispatchSemaphore(value: 0)
        let helped = Atomic<Int>(-1)
        let p = Pipeline(0..<128) | op.map { (x: Int) -> Int in
            if x == 0 {
                let result = otherStarted.wait(timeout: .now() + .seconds(10))
                helped.store(result == .success ? 1 : 0, ordering: .sequentiallyConsistent)
            } else {
                otherStarted.signal()
            }
            return x
        }.workers(2)
        // The whole run on a private pool (child tasks inherit the preference): blocking one of its
        // threads never holds up the cooperative pool that other tests share.
        let pool = BlockingPool(threads: 3, name: "chunk-size-test")
        defer { pool.shutdown() }
        let outputs = try await withTaskExecutorPreference(pool) { try await p.collect() }
        #expect(outputs == Array(0..<128))
        #expect(helped.load(ordering: .sequentiallyConsistent) == 1)
    }
}

/// Busy work of about `duration` (load, not synchronisation: it makes an item slow).
func spin(for duration: Duration) -> Int {
    let end = ContinuousClock.now + duration
    var n = 0
    while ContinuousClock.now < end { n &+= 1 }
    return n
}

@Suite struct HandOverSizeTests {
    /// Slow synchronous items are handed over one chunk at a time: while item `x` is processed,
    /// the consumer has already seen item `x - 2`. (Held for a batch, item 0 would reach the
    /// consumer only after hundreds of slow items.)
    @Test func slowItemsAreHandedOverAtOnce() async throws {
        let seen = Atomic<Int>(0)
        let late = Atomic<Int>(0)
        let p = Pipeline(0..<600) | op.map { (x: Int) -> Int in
            _ = spin(for: .microseconds(400))
            if x >= 2 && late.load(ordering: .relaxed) == 0 {
                // Wait (bounded, and only until the first miss) for the consumer to have seen item x - 2.
                let deadline = ContinuousClock.now + .seconds(10)
                while seen.load(ordering: .acquiring) < x - 1 {
                    if ContinuousClock.now > deadline {
                        late.add(1, ordering: .relaxed)
                        break
                    }
                }
            }
            return x
        }
        let pool = BlockingPool(threads: 3, name: "hand-over-test")
        defer { pool.shutdown() }
        let count = try await withTaskExecutorPreference(pool) {
            try await p.reduce(0) { n, _ in
                seen.add(1, ordering: .releasing)
                return n + 1
            }
        }
        #expect(count == 600)
        #expect(late.load(ordering: .relaxed) == 0, "items held back for a batch")
    }
}
