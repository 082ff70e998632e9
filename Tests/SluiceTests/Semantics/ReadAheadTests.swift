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

        /// The most `first()` may read: 16 (the number) where the consumer's demand reaches
        /// the source directly; through a parallel stage, its four workers and the two channels
        /// after it each hold a few more (17–24 seen under the thread sanitizer).
        var firstBound: Int { self == .parallelStages ? 48 : 16 }
    }

    /// Repeats a run: the read-ahead depends on timing, the bound must hold in every run.
    static let runs = 20

    @Test(arguments: Shape.allCases)
    func takeThreeReadsAFewItems(shape: Shape) async throws {
        for _ in 0..<Self.runs {
            let pulled = Counter()
            let items = try await shape.pipeline(pulled).take(3)
            #expect(items.count == 3)
            #expect(pulled.value <= 64, "take(3) read \(pulled.value) items")
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
            #expect(pulled.value <= 100, "a loop of 5 items read \(pulled.value) items")
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

