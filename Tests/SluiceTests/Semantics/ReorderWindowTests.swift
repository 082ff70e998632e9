// An ordered parallel stage keeps input order through a reorder window sized in input items, not
// in workers: workers keep taking items past a slow one until the completed items held back span
// the window.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Testing

@Suite struct ReorderWindowTests {
    /// Item 0 blocks until released; the other items complete at once. Returns how many items
    /// completed while item 0 was blocked (after they reached `atLeast`), and the outputs.
    func completedPastASlowItem(_ stage: Flow<Int, Int>, completed: Counter, gate: Gate, atLeast minimum: Int) async throws -> (Int, [Int]) {
        try await withDeadline(seconds: 30) {
            async let outputs = (Pipeline(0..<2_000) | stage).collect()
            await completed.wait(atLeast: minimum)
            await yieldRepeatedly()
            let whileBlocked = completed.value
            gate.open()
            return (whileBlocked, try await outputs)
        }
    }

    static func slowHead(_ completed: Counter, _ gate: Gate) -> Flow<Int, Int> {
        op.map { (x: Int) async throws -> Int in
            if x == 0 { try await gate.wait() } else { completed.increment() }
            return x
        }
    }

    @Test(arguments: [1, 10, 300])
    func workersRunPastASlowItemUntilTheWindowIsFull(window: Int) async throws {
        let completed = Counter(), gate = Gate()
        let stage = Self.slowHead(completed, gate).workers(4).ordered(window: window)
        let (whileBlocked, outputs) = try await completedPastASlowItem(stage, completed: completed, gate: gate, atLeast: window)
        #expect(outputs == Array(0..<2_000), "input order")
        // At least the window, at most the window plus what the other three workers had in hand:
        // a chunk each, at most a worker's part of the window (quick items are taken in chunks).
        #expect(whileBlocked >= window && whileBlocked <= window + 3 * max(1, window / 4), "\(whileBlocked) items completed behind the slow one")
    }

    /// The default window is larger than the worker count: 16 items per worker.
    @Test func theDefaultWindowIsSixteenItemsPerWorker() async throws {
        let completed = Counter(), gate = Gate()
        let stage = Self.slowHead(completed, gate).workers(4)
        let (whileBlocked, outputs) = try await completedPastASlowItem(stage, completed: completed, gate: gate, atLeast: 64)
        #expect(outputs == Array(0..<2_000))
        #expect(whileBlocked >= 64 && whileBlocked <= 64 + 3 * 16, "\(whileBlocked)")
    }

    /// `.unordered()` holds nothing back: every other item completes behind the slow one.
    @Test func unorderedRunsPastEverything() async throws {
        let completed = Counter(), gate = Gate()
        let stage = Self.slowHead(completed, gate).workers(4).unordered()
        let (whileBlocked, outputs) = try await completedPastASlowItem(stage, completed: completed, gate: gate, atLeast: 1_999)
        #expect(whileBlocked == 1_999)
        #expect(outputs.sorted() == Array(0..<2_000) && outputs.last == 0)
    }

    @Test func bothSpellingsBuildTheSameStage() {
        let pipe: Flow<Int, Int> = op.map { (x: Int) in x }.workers(8).ordered(window: 100)
        let builder = Flow<Int, Int> { Map { (x: Int) in x }.workers(8).ordered(window: 100) }
        #expect(pipe.stages == builder.stages)
        #expect(pipe.stages[0].window == 100)
        #expect(pipe.stages[0].description == "map(workers: 8, window: 100)")
        // `.unordered()` after it drops the window.
        #expect(pipe.unordered().stages[0].window == nil)
    }

    @Test func theWindowIsPartOfTheBound() {
        let narrow = Pipeline(0..<10) | op.map { (x: Int) async in x }.workers(8).ordered(window: 8)
        let wide = Pipeline(0..<10) | op.map { (x: Int) async in x }.workers(8).ordered(window: 8_008)
        #expect(wide.inFlightBound - narrow.inFlightBound == 8_000)
    }

    @Test func aWindowBelowOneIsRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").workers(4).ordered(window: 0)
        }
        #expect(stderrText(result).contains("window must be >= 1, got 0 (stage 'fetch')"), "\(stderrText(result))")
    }

    /// A live source with `workers(8)` and the defaults holds a few hundred items at most.
    @Test func aLiveSourceWithEightWorkersHoldsAtMostTwoHundredFiftySix() {
        let asyncStage = Pipeline(CountingAsyncSequence(count: nil)) | op.map { (x: Int) async in x }.workers(8)
        let syncStage = Pipeline(CountingAsyncSequence(count: nil)) | op.map { (x: Int) in x }.workers(8)
        let unordered = Pipeline(CountingAsyncSequence(count: nil)) | op.map { (x: Int) async in x }.workers(8).unordered()
        for p in [asyncStage, syncStage, unordered] {
            #expect(p.inFlightBound <= 256, "\(p.inFlightBound)")
        }
        // The figure the guides give (Concepts.md).
        #expect(asyncStage.inFlightBound == 241 && syncStage.inFlightBound == 241)
    }
}
