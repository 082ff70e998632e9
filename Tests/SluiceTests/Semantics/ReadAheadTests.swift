// What leaves the source follows what the consumer asks for: `take(k)`, `first()` and a loop that
// stops early read O(k) items from a large source, not whole buffers.
import Testing
import Sluice
import SluiceTestSupport

@Suite struct ReadAheadTests {
    /// The pipelines under test: the same source (counting its reads) through differently planned
    /// stages: fused into the source's worker, behind a source task, from an async source, and
    /// through a parallel stage.
    enum Shape: CaseIterable, CustomTestStringConvertible {
        case fusedSync, syncSourceAsyncStage, asyncSource, parallelStages

        func pipeline(_ pulled: Counter) -> Pipeline<Int> {
            let n = 1_000_000
            switch self {
            case .fusedSync:
                return Pipeline(CountingSequence(count: n, pulled: pulled)) | op.map { (x: Int) in x * 1 }
            case .syncSourceAsyncStage:
                return Pipeline(CountingSequence(count: n, pulled: pulled)) | op.map { (x: Int) async in x * 1 }
            case .asyncSource:
                return Pipeline(CountingAsyncSequence(count: n, pulled: pulled)) | op.map { (x: Int) in x * 1 }
            case .parallelStages:
                return Pipeline(CountingSequence(count: n, pulled: pulled))
                    | op.map { (x: Int) in x * 1 }
                    | op.map { (x: Int) async in x }.workers(4)
                    | op.filter { (x: Int) in x >= 0 }
            }
        }

        var testDescription: String { "\(self)" }

        /// The most `first()` may read, whatever the timing (the thread sanitizer slows some tasks
        /// down a lot): every item read is in one place — the source task's hand, a channel, a
        /// worker's chunk, the consumer's batch — and each place holds at most what the defaults
        /// allow before the consumer has its item. Usually far fewer are read (3–24 seen).
        ///
        /// - fused: the worker's chunk follows its output channel's slow start: 16.
        /// - an async source: its channel (16), the item the source task holds, the worker's chunk
        ///   (16) and the output channel and consumer's batch in slow start (4 each): 41, so 48
        ///   (29 seen once under the thread sanitizer).
        /// - a synchronous source before an async stage: the source channel and the source task's
        ///   chunk grow with the worker's takes until its output (slow start) is full: 48.
        /// - an ordered parallel stage: the workers keep taking items past a slow first one
        ///   until the reorder window is full: the source's chunk and channel (8 each), the
        ///   four workers' chunks (quick items are taken up to 16 at a time, at most a worker's
        ///   part of the window: 16 each), the window (16 per worker) and the stage's output
        ///   channel (48): 192 (127 seen once under the thread sanitizer before workers took
        ///   quick items in chunks, 187 once after).
        var firstBound: Int {
            switch self {
            case .fusedSync: 16
            case .asyncSource, .syncSourceAsyncStage: 48
            case .parallelStages: 192
            }
        }
        /// The most `take(3)` may read (the same reasoning, two more items).
        var takeThreeBound: Int { self == .parallelStages ? 194 : 64 }
        /// The most a loop that stops after five items may read. The run goes on until it sees the
        /// stop, and a consumer starved of CPU (the thread sanitizer on a loaded machine) lets the
        /// stages before it run ahead to what slow start allows them:
        ///
        /// - a synchronous source before an async stage: the five items, the consumer's batch and
        ///   the output channel (each at most 8: they double only when the consumer takes half);
        ///   the worker's chunks, which double while their outputs fit (at most about 42 items
        ///   done) and the one it holds blocked (up to 64); the source channel and the source
        ///   task's chunk, which grow with the worker's takes (up to 64 each): 196 (CI saw 172
        ///   under the thread sanitizer).
        /// - an ordered parallel stage: as for `first()`, four more items.
        var loopOfFiveBound: Int {
            switch self {
            case .fusedSync, .asyncSource: 100
            case .syncSourceAsyncStage, .parallelStages: 196
            }
        }
    }

    /// Repeats a run: the read-ahead depends on timing, the bound must hold in every run.
    static let runs = 20

    @Test(arguments: Shape.allCases)
    func takeThreeReadsAFewItems(shape: Shape) async throws {
        for _ in 0..<Self.runs {
            let pulled = Counter()
            let items = try await shape.pipeline(pulled).take(3)
            #expect(items.count == 3)
            #expect(pulled.value <= shape.takeThreeBound, "take(3) read \(pulled.value) items")
        }
    }

    @Test(arguments: Shape.allCases)
    func firstReadsAFewItems(shape: Shape) async throws {
        for _ in 0..<Self.runs {
            let pulled = Counter()
            let item = try await shape.pipeline(pulled).first()
            #expect(item != nil)
            #expect(pulled.value <= shape.firstBound, "first() read \(pulled.value) items")
        }
    }

    @Test(arguments: Shape.allCases)
    func aLoopThatStopsReadsInProportion(shape: Shape) async throws {
        for _ in 0..<Self.runs {
            let pulled = Counter()
            var seen = 0
            for try await _ in shape.pipeline(pulled) {
                seen += 1
                if seen == 5 { break }
            }
            #expect(seen == 5)
            #expect(pulled.value <= shape.loopOfFiveBound, "a loop of 5 items read \(pulled.value) items")
        }
    }

    /// The read-ahead still grows for a consumer that keeps asking: everything arrives, in order.
    @Test(arguments: Shape.allCases)
    func aConsumerOfEverythingGetsEverything(shape: Shape) async throws {
        let pulled = Counter()
        let count = try await (shape.pipeline(pulled) | op.prefix(200_000)).count()
        #expect(count == 200_000)
    }
}

