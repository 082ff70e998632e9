// DESIGN §3.1: building a Flow or Pipeline runs nothing; each terminal call runs afresh.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct LazinessTests {
    @Test func buildingRunsNothing() async throws {
        let opened = Counter(), mapped = Counter()
        let flow = op.map { (x: Int) -> Int in
            mapped.increment()
            return x * 2
        }
        let pipeline = Pipeline { () -> [Int] in
            opened.increment()
            return [1, 2, 3]
        } | flow | op.filter { $0 > 2 }
        _ = pipeline.stages
        #expect(opened.value == 0)
        #expect(mapped.value == 0)
        #expect(try await pipeline.collect() == [4, 6])
        #expect(opened.value == 1)
        #expect(mapped.value == 3)
    }

    @Test func everyTerminalRunsAfresh() async throws {
        let opened = Counter()
        let pipeline = Pipeline { () -> ClosedRange<Int> in
            opened.increment()
            return 1...4
        } | op.map { $0 * 10 }
        #expect(try await pipeline.collect() == [10, 20, 30, 40])
        #expect(try await pipeline.count() == 4)
        #expect(try await pipeline.reduce(0, +) == 100)
        #expect(try await pipeline.first() == 10)
        var looped: [Int] = []
        for try await x in pipeline { looped.append(x) }
        #expect(looped == [10, 20, 30, 40])
        #expect(opened.value == 5)
    }

    @Test func sequenceSourcesAreReadAgainAtEachRun() async throws {
        let pulled = Counter()
        let pipeline = Pipeline(CountingSequence(count: 3, pulled: pulled)) | op.map { $0 + 1 }
        #expect(try await pipeline.collect() == [1, 2, 3])
        #expect(try await pipeline.collect() == [1, 2, 3])
        #expect(pulled.value == 6)
    }

    @Test func asyncSequenceSourcesAreReadAgainAtEachRun() async throws {
        let pipeline = Pipeline(CountingAsyncSequence(count: 3)) | op.map { $0 + 1 }
        #expect(try await pipeline.collect() == [1, 2, 3])
        #expect(try await pipeline.collect() == [1, 2, 3])
    }
}
