// DESIGN §3.7: empty sources, first() on empty, take(n <= 0), batch never empty.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct EdgeCaseTests {
    static let empty = Pipeline([Int]()) | op.map { $0 + 1 } | op.map { (x: Int) async in x }.workers(3)

    @Test func emptySourceWorksForEveryTerminal() async throws {
        let p = Self.empty
        #expect(try await p.collect() == [])
        #expect(try await p.count() == 0)
        #expect(try await p.reduce(7, +) == 7)
        #expect(try await p.reduce(into: [Int]()) { $0.append($1) } == [])
        #expect(try await p.first() == nil)
        #expect(try await p.take(3) == [])
        try await p.drain()
        let calls = Counter()
        try await p.forEach { _ in calls.increment() }
        for try await _ in p { calls.increment() }
        #expect(calls.value == 0)
    }

    @Test func emptyPipelineWithoutStages() async throws {
        #expect(try await Pipeline([Int]()).collect() == [])
        #expect(try await Pipeline(1...3).collect() == [1, 2, 3])
    }

    @Test func firstOnAnOptionalElementDistinguishesNilFromEmpty() async throws {
        let p = Pipeline([Int?.none, 1]) | op.map { $0 }
        #expect(try await p.first() == .some(nil))
        #expect(try await (Pipeline([Int?]()) | op.map { $0 }).first() == nil)
    }

    @Test(arguments: [0, -1, -100])
    func takeOfZeroOrLessIsEmptyAndRunsNothing(n: Int) async throws {
        let opened = Counter()
        let p = Pipeline { () -> [Int] in
            opened.increment()
            return [1, 2, 3]
        } | op.map { $0 }
        #expect(try await p.take(n) == [])
        #expect(opened.value == 0)
    }

    @Test func takeMoreThanThereIs() async throws {
        #expect(try await (Pipeline(1...3) | op.map { $0 }).take(10) == [1, 2, 3])
    }

    @Test func batchGroupsAndNeverEmitsAnEmptyBatch() async throws {
        #expect(try await (Pipeline(1...5) | op.batch(2)).collect() == [[1, 2], [3, 4], [5]])
        #expect(try await (Pipeline(1...4) | op.batch(2)).collect() == [[1, 2], [3, 4]])
        #expect(try await (Pipeline([Int]()) | op.batch(2)).collect() == [])
        #expect(try await (Pipeline(1...5) | op.filter { _ in false } | op.batch(2)).collect() == [])
        #expect(try await (Pipeline(1...3) | op.batch(1)).collect() == [[1], [2], [3]])
        let async = Pipeline(1...5) | op.map { (x: Int) async in x } | op.batch(3)
        #expect(try await async.collect() == [[1, 2, 3], [4, 5]])
    }
}
