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

        /// The most `first()` may read: 16 where the consumer's demand reaches the source
        /// directly. Through an ordered parallel stage the workers keep taking items past a slow
        /// first one until its reorder window is full, so what the source gives up is bounded by
        /// the stage, not by the consumer: the source's chunk and its channel in slow start (at most
        /// twice the four waiting workers: 8 each), the four workers, the window (16 per worker),
        /// and the stage's output channel (48) the items after the first may reach before the run
        /// stops: 8 + 8 + 4 + 64 + 48 = 132. Usually far fewer are read (3–24 seen; 127 once
        /// under the thread sanitizer, before the fused source's chunk followed its channel).
        var firstBound: Int { self == .parallelStages ? 132 : 16 }
        /// The most `take(3)` may read (the same reasoning, two more items).
        var takeThreeBound: Int { self == .parallelStages ? 134 : 64 }
        /// The most a loop that stops after five items may read.
        var loopOfFiveBound: Int { self == .parallelStages ? 136 : 100 }
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

