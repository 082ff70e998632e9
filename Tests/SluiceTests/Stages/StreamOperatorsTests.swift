// The stream operators (`scan`, `prefix`, `dropFirst`, `drop(while:)`, `distinct`) against the
// same operations on an Array: alone, after a stage with several workers, after an ordered
// `.workers(3)` stage, inside a fused segment, and in an asynchronous segment; `prefix` stopping an
// endless source; a throwing closure failing after the outputs of the items before it.
import Testing
import Sluice
import SluiceTestSupport

private struct StreamError: Error, Equatable {}


/// One operator and its Array oracle.
struct StreamCase: Sendable, CustomTestStringConvertible {
    let name: String
    let flow: Flow<Int, Int>
    let oracle: @Sendable ([Int]) -> [Int]
    var testDescription: String { name }
}

/// A distinct over a FIFO window of `window` keys, as an Array reference.
/// The running results of `combine` from `initial` (each intermediate value, not `initial`).
func runningResults<T, R>(_ xs: [T], _ initial: R, _ combine: (R, T) -> R) -> [R] {
    var acc = initial
    return xs.map { x in
        acc = combine(acc, x)
        return acc
    }
}

private func distinctReference(_ xs: [Int], window: Int, key: (Int) -> Int = { $0 }) -> [Int] {
    var held: [Int] = [], out: [Int] = []
    for x in xs where !held.contains(key(x)) {
        held.append(key(x))
        if held.count > window { held.removeFirst() }
        out.append(x)
    }
    return out
}

let streamCases: [StreamCase] = [
    StreamCase(name: "scan", flow: op.scan(0) { (s: Int, x: Int) in s &+ x }, oracle: { Array(runningResults($0, 0, &+)) }),
    StreamCase(name: "Scan", flow: Flow<Int, Int> { Scan(1) { ($0 &* 31 &+ $1) % 1_000_003 } }, oracle: { Array(runningResults($0, 1) { ($0 &* 31 &+ $1) % 1_000_003 }) }),
    StreamCase(name: "prefix(0)", flow: op.prefix(0), oracle: { Array($0.prefix(0)) }),
    StreamCase(name: "prefix(7)", flow: op.prefix(7), oracle: { Array($0.prefix(7)) }),
    StreamCase(name: "Prefix(1500)", flow: Flow<Int, Int> { Prefix<Int>(1_500) }, oracle: { Array($0.prefix(1_500)) }),
    StreamCase(name: "prefix(while:)", flow: op.prefix { (x: Int) in x % 997 != 996 }, oracle: { Array($0.prefix { $0 % 997 != 996 }) }),
    StreamCase(name: "Prefix(while:)", flow: Flow<Int, Int> { Prefix(while: { $0 < 1_234 }) }, oracle: { Array($0.prefix { $0 < 1_234 }) }),
    StreamCase(name: "dropFirst(0)", flow: op.dropFirst(0), oracle: { Array($0.dropFirst(0)) }),
    StreamCase(name: "dropFirst(513)", flow: op.dropFirst(513), oracle: { Array($0.dropFirst(513)) }),
    StreamCase(name: "DropFirst(5000)", flow: Flow<Int, Int> { DropFirst<Int>(5_000) }, oracle: { Array($0.dropFirst(5_000)) }),
    StreamCase(name: "drop(while:)", flow: op.drop { (x: Int) in x % 1_000 != 999 }, oracle: { Array($0.drop { $0 % 1_000 != 999 }) }),
    StreamCase(name: "DropWhile", flow: Flow<Int, Int> { DropWhile { $0 < 10 } }, oracle: { Array($0.drop { $0 < 10 }) }),
    StreamCase(name: "distinct()", flow: op.distinct(), oracle: { distinctReference($0, window: 10_000) }),
    StreamCase(name: "distinct(window: 3)", flow: op.distinct(window: 3), oracle: { distinctReference($0, window: 3) }),
    StreamCase(name: "Distinct(by:window: 50)", flow: Flow<Int, Int> { Distinct(by: { $0 % 200 }, window: 50) }, oracle: { distinctReference($0, window: 50) { $0 % 200 } }),
]

/// Items with repeats near and far, so `distinct` and its window matter.
let streamInput: [Int] = (0..<3_000).map { ($0 &* 7_919) % 1_301 }

@Suite struct StreamOperatorsTests {
    @Test(arguments: streamCases) func matchesTheArrayOperation(_ c: StreamCase) async throws {
        let expected = c.oracle(streamInput)
        #expect(try await (Pipeline(streamInput) | c.flow).collect() == expected, "alone")
        // A fused segment: synchronous stages before and after it.
        let fused = Pipeline(streamInput) | op.map { (x: Int) in x } | c.flow | op.map { (x: Int) in x &* 2 }
        #expect(try await fused.collect() == expected.map { $0 &* 2 }, "fused")
        // After an ordered stage with three workers.
        let afterWorkers = Pipeline(streamInput) | op.map({ (x: Int) async in
            if x % 5 == 0 { await Task.yield() }
            return x
        }).workers(3) | c.flow
        #expect(try await afterWorkers.collect() == expected, "after .workers(3)")
        // After a synchronous stage with several workers, in the same flow.
        let flow: Flow<Int, Int> = op.map({ (x: Int) in x + 1 }).workers(4) | c.flow
        #expect(try await (Pipeline(streamInput.map { $0 - 1 }) | flow).collect() == expected, "after sync workers")
        // In an asynchronous segment: an async stage fused before it.
        let asyncSegment = Pipeline(streamInput) | op.filter { (_: Int) async in true } | c.flow
        #expect(try await asyncSegment.collect() == expected, "async segment")
        // An asynchronous source and a reused pipeline.
        let reused = Pipeline(CountingAsyncInts(items: streamInput)) | c.flow
        #expect(try await reused.collect() == expected, "async source")
        #expect(try await reused.collect() == expected, "second run starts with fresh state")
    }

    @Test func builderAndOpSpellingsBuildTheSameGraph() {
        #expect(Flow<Int, Int> { Scan(0) { $0 + $1 } }.stages == op.scan(0, { (s: Int, x: Int) in s + x }).stages)
        #expect(Flow<Int, Int> { Prefix<Int>(3); DropFirst<Int>(1); Distinct<Int>() }.stages
                == ((op.prefix(3) as Flow<Int, Int>) | op.dropFirst(1) | op.distinct()).stages)
        #expect((op.prefix(3) as Flow<Int, Int>).stages.map(\.kind) == ["prefix"])
        #expect((op.drop { (x: Int) in x < 3 }).stages.map(\.kind) == ["drop"])
        #expect((op.distinct(by: { (x: Int) in x % 3 })).stages.first?.workers == 1)
    }

    // MARK: prefix stops the upstream

    @Test(arguments: [0, 1, 5, 1_000])
    func prefixStopsAnEndlessSource(count: Int) async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled)) | op.map { (x: Int) in x * 2 } | op.prefix(count)
        #expect(try await withDeadline(seconds: 30) { try await p.collect() } == (0..<count).map { $0 * 2 })
        #expect(pulled.value < 2_000 + count, "the endless source stopped (pulled \(pulled.value))")
    }

    @Test func prefixWhileStopsAnEndlessSourceBehindWorkers() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled))
            | op.map({ (x: Int) async in x }).workers(3)
            | op.prefix { (x: Int) in x < 100 }
            | op.map { (x: Int) in x + 1 }
        #expect(try await withDeadline(seconds: 30) { try await p.collect() } == Array(1...100))
        #expect(pulled.value < 2_000, "the endless source stopped (pulled \(pulled.value))")
    }

    @Test func prefixStopsAnEndlessSourceInAnAsynchronousSegment() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled))
            | op.filter { (_: Int) async in true }
            | Flow<Int, Int> { Prefix<Int>(10) }
        #expect(try await withDeadline(seconds: 30) { try await p.collect() } == Array(0..<10))
        #expect(pulled.value < 2_000, "the endless source stopped (pulled \(pulled.value))")
    }

    @Test func theStagesAfterACompletedPrefixStillFinish() async throws {
        // A batch after `prefix` flushes its partial array: fused with it, and in an async segment.
        let fused = Pipeline(CountingSequence(count: nil)) | op.prefix(5) | op.batch(2)
        #expect(try await withDeadline(seconds: 30) { try await fused.collect() } == [[0, 1], [2, 3], [4]])
        let async = Pipeline(CountingSequence(count: nil)) | op.filter { (_: Int) async in true } | op.prefix(5) | op.batch(2)
        #expect(try await withDeadline(seconds: 30) { try await async.collect() } == [[0, 1], [2, 3], [4]])
        let whileFlow = Pipeline(0..<100) | op.map({ (x: Int) in x }).workers(2) | op.prefix { (x: Int) in x < 5 } | op.batch(4)
        #expect(try await whileFlow.collect() == [[0, 1, 2, 3], [4]])
    }

    @Test func prefixOnAnEmptySourceEndsNormally() async throws {
        #expect(try await (Pipeline([Int]()) | op.prefix(3)).collect() == [])
        #expect(try await (Pipeline([Int]()) | op.prefix(0)).collect() == [])
    }

    // MARK: distinct holds at most `window` keys

    @Test func distinctEvictsTheOldestKeyFirst() async throws {
        #expect(try await (Pipeline([1, 2, 3, 1, 4, 1, 2]) | op.distinct(window: 3)).collect() == [1, 2, 3, 4, 1, 2])
        #expect(try await (Pipeline([1, 2, 3, 1, 4, 1, 2]) | op.distinct()).collect() == [1, 2, 3, 4])
        #expect(try await (Pipeline([5, 5, 5]) | op.distinct(window: 1)).collect() == [5])
    }

    // MARK: failures

    @Test func aThrowingClosureFailsAfterTheOutputsOfTheItemsBeforeIt() async throws {
        let failing: [(String, Flow<Int, Int>, [Int])] = [
            ("scan", op.scan(0) { (s: Int, x: Int) throws -> Int in if x == 700 { throw StreamError() }; return s + x }, runningResults(Array(0..<700), 0, +)),
            ("prefix", op.prefix { (x: Int) throws -> Bool in if x == 700 { throw StreamError() }; return true }, Array(0..<700)),
            ("drop", op.drop { (x: Int) throws -> Bool in if x == 700 { throw StreamError() }; return x < 300 }, Array(300..<1_000)),
            ("distinct", op.distinct(by: { (x: Int) throws -> Int in if x == 700 { throw StreamError() }; return x }), Array(0..<700)),
        ]
        for (stage, flow, expected) in failing {
            for upstream in [op.map { (x: Int) in x }, op.map({ (x: Int) in x }).workers(3)] {
                let (items, error) = await readUntilFailure(Pipeline(0..<1_000) | upstream | flow | op.map { (x: Int) in x })
                // `drop` stopped calling its predicate at 300, so it never sees the throwing item.
                if stage == "drop" {
                    #expect(items == expected && error == nil)
                    continue
                }
                #expect(items == expected, "\(stage)")
                let failure = try #require(error as? StageFailure, "\(stage)")
                #expect(failure.stage == stage && failure.item as? Int == 700 && failure.underlying is StreamError)
            }
        }
        let (items, error) = await readUntilFailure(Pipeline(0..<1_000) | op.drop { (x: Int) throws -> Bool in if x == 200 { throw StreamError() }; return true })
        #expect(items.isEmpty)
        #expect((error as? StageFailure)?.stage == "drop" && (error as? StageFailure)?.item as? Int == 200)
    }

    @Test func aNamedStageIsNamedInItsFailure() async throws {
        let p = Pipeline(0..<10) | op.scan(0) { (s: Int, x: Int) throws -> Int in if x == 4 { throw StreamError() }; return s + x }.named("running total")
        let (items, error) = await readUntilFailure(p)
        #expect(items == [0, 1, 3, 6])
        #expect((error as? StageFailure)?.stage == "running total")
    }
}

/// A plain asynchronous sequence of fixed items.
private struct CountingAsyncInts: AsyncSequence, Sendable {
    typealias Element = Int
    let items: [Int]
    struct AsyncIterator: AsyncIteratorProtocol {
        let items: [Int]
        var index = 0
        mutating func next() async -> Int? {
            guard index < items.count else { return nil }
            defer { index += 1 }
            return items[index]
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(items: items) }
}

/// Invalid stream operator settings stop where they are written, with a message naming the stage,
/// the parameter and the value.
@Suite struct StreamOperatorsConfigurationTests {
    @Test func negativePrefixCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Prefix<Int>(-1)
        }
        #expect(resilienceStderr(result).contains("prefix count must be >= 0, got -1 (stage 'prefix')"), "\(resilienceStderr(result))")
    }

    @Test func negativeDropFirstCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.dropFirst(-2) as Flow<Int, Int>
        }
        #expect(resilienceStderr(result).contains("dropFirst count must be >= 0, got -2 (stage 'dropFirst')"), "\(resilienceStderr(result))")
    }

    @Test func distinctWindowBelowOne() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.distinct(by: { (x: Int) in x }, window: 0)
        }
        #expect(resilienceStderr(result).contains("distinct window must be >= 1, got 0 (stage 'distinct')"), "\(resilienceStderr(result))")
    }

    @Test func scanWithSeveralWorkers() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.scan(0) { (s: Int, x: Int) in s + x }.workers(3)
        }
        #expect(resilienceStderr(result).contains("workers must be 1 for stage 'scan', got 3"), "\(resilienceStderr(result))")
    }

    @Test func prefixWithSeveralWorkers() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Flow<Int, Int> { Prefix(while: { $0 < 3 }).workers(2) }
        }
        #expect(resilienceStderr(result).contains("workers must be 1 for stage 'prefix', got 2"), "\(resilienceStderr(result))")
    }
}
