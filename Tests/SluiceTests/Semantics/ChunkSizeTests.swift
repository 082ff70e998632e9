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
