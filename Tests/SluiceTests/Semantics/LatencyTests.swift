// No added latency: a single item goes through an idle pipeline at once — batches are handed over
// as soon as a stage would otherwise wait, never after a timer or a fill level.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct LatencyTests {
    /// The source yields one item and then waits until the consumer has it: if any stage held the
    /// item back to fill a batch, this would hang (and fail at the deadline).
    func oneAtATime(_ flow: Flow<Int, Int>, expect expected: [Int]) async throws {
        let (source, continuation) = AsyncStream.makeStream(of: Int.self)
        continuation.yield(1)
        let out = try await withDeadline {
            var seen: [Int] = []
            try await (Pipeline(source) | flow).forEach { x in
                seen.append(x)
                if seen.count < 3 { continuation.yield(seen.count + 1) } else { continuation.finish() }
            }
            return seen
        }
        #expect(out == expected)
    }

    @Test func fusedSynchronousStages() async throws {
        try await oneAtATime(op.map { $0 * 2 } | op.filter { $0 > 0 } | op.map { $0 + 1 }, expect: [3, 5, 7])
    }

    @Test func stagesOnTheirOwnTasks() async throws {
        try await oneAtATime(op.map { $0 * 2 }.buffer(64) | op.filter { $0 > 0 }.buffer(64) | op.map { $0 + 1 }.buffer(64),
                             expect: [3, 5, 7])
    }

    @Test func asyncAndParallelStages() async throws {
        try await oneAtATime(op.map { (x: Int) async in x * 2 }.workers(4) | op.filter { $0 > 0 } | op.map { (x: Int) async in x + 1 },
                             expect: [3, 5, 7])
    }

    @Test func batchesWaitForTheirSizeButNotForATimer() async throws {
        // `batch(2)` emits when it has 2 items or at the end: the second yield completes the first batch.
        let (source, continuation) = AsyncStream.makeStream(of: Int.self)
        continuation.yield(1)
        continuation.yield(2)
        let out = try await withDeadline {
            var seen: [[Int]] = []
            try await (Pipeline(source) | op.map { $0 } | op.batch(2)).forEach { batch in
                seen.append(batch)
                continuation.yield(3)
                continuation.finish()
            }
            return seen
        }
        #expect(out == [[1, 2], [3]])
    }
}
