// Fan-in sources: merge, concat and zip against array oracles, their ends and failures, structure.
import Sluice
import SluiceTestSupport
import Testing


/// True if `part` appears in `whole` in order (not necessarily contiguous).
func isSubsequence<T: Equatable>(_ part: [T], of whole: [T]) -> Bool {
    var i = part.startIndex
    for x in whole where i < part.endIndex && part[i] == x { i += 1 }
    return i == part.endIndex
}

@Suite(.timeLimit(.minutes(1))) struct FanInTests {
    static let inputs: [[Int]] = [[], Array(0..<5), Array(100..<400), [], Array(1000..<1003)]

    @Test(arguments: [0, 1, 2, 5])
    func mergeGivesEveryItemOfEveryInputKeepingEachInputsOrder(count: Int) async throws {
        let inputs = Array(Self.inputs.prefix(count))
        let p = Pipeline.merge(inputs.map { Pipeline($0) | op.map { (x: Int) async in x }.workers(3) })
        let out = try await p.collect()
        #expect(out.sorted() == inputs.flatMap { $0 }.sorted())
        for input in inputs { #expect(isSubsequence(input, of: out)) }
        // A value: it runs again.
        #expect(try await p.collect().sorted() == out.sorted())
    }

    @Test func mergeComposesWithStagesAndFlows() async throws {
        let p = Pipeline.merge(Pipeline(1...3), Pipeline([10, 20])) | op.map { $0 * 2 } | op.filter { $0 > 2 }
        #expect(try await p.collect().sorted() == [4, 6, 20, 40])
        let builder = Flow<Int, Int> { Map { $0 + 1 } }
        #expect(try await (Pipeline.merge([Pipeline([1]), Pipeline([2])]) | builder).collect().sorted() == [2, 3])
    }

    /// Completion order: a fast input is not held behind a slow one.
    @Test func mergeDeliversInCompletionOrderAndEndsWhenEveryInputHasEnded() async throws {
        let (late, input) = AsyncStream.makeStream(of: Int.self)
        let p = Pipeline.merge(Pipeline(late), Pipeline([1, 2, 3]))
        let (early, rest) = try await withDeadline {
            try await p.open { outputs in
                var early: [Int] = []
                var iterator = outputs.makeAsyncIterator()
                // The array's items arrive while the stream has given nothing.
                while early.count < 3, let x = try await iterator.next() { early.append(x) }
                input.yield(99)
                input.finish()
                var rest: [Int] = []
                while let x = try await iterator.next() { rest.append(x) }
                return (early, rest)
            }
        }
        #expect(early == [1, 2, 3])
        #expect(rest == [99])
    }

    @Test func mergeFailsWithTheFirstFailureAndStopsTheOtherInputs() async throws {
        let gate = Gate(), running = HighWater()
        let failing = Pipeline(0..<10) | op.map { (x: Int) throws -> Int in
            if x == 3 { throw ShapeBoom() }
            return x
        }.named("parse")
        let stuck = Pipeline(0..<1_000) | op.map { (x: Int) async throws -> Int in
            running.enter(); defer { running.leave() }
            try await gate.wait()
            return x
        }
        let (items, error) = await readUntilFailure(Pipeline.merge(stuck, failing))
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "parse")
        #expect(failure.item as? Int == 3)
        #expect(failure.underlying is ShapeBoom)
        #expect(items.sorted() == [0, 1, 2])
        #expect(running.current == 0)   // the stuck input was cancelled and awaited
    }

    @Test func concatGivesTheInputsOneAfterAnother() async throws {
        for count in 0...Self.inputs.count {
            let inputs = Array(Self.inputs.prefix(count))
            let p = Pipeline.concat(inputs.map { Pipeline($0) | op.map { (x: Int) async in x }.workers(4) })
            #expect(try await p.collect() == inputs.flatMap { $0 })
        }
        #expect(try await (Pipeline.concat(Pipeline([1, 2]), Pipeline([3])) | op.map { $0 * 10 }).collect() == [10, 20, 30])
    }

    @Test func concatStartsAnInputOnlyAfterThePreviousOneAndStopsAtAFailure() async throws {
        let thirdStarted = Counter()
        let second = Pipeline(0..<5) | op.map { (x: Int) throws -> Int in
            if x == 2 { throw ShapeBoom() }
            return 10 + x
        }
        let third = Pipeline { () async -> [Int] in
            thirdStarted.increment()
            return [99]
        }
        let (items, error) = await readUntilFailure(Pipeline.concat(Pipeline([1, 2]), second, third))
        #expect(items == [1, 2, 10, 11])
        #expect((error as? StageFailure)?.underlying is ShapeBoom)
        #expect(thirdStarted.value == 0)
    }

    @Test func zipPairsInOrderAndEndsWithTheShortest() async throws {
        let cases: [([Int], [String])] = [([], []), ([1, 2, 3], []), ([1, 2, 3], ["a", "b"]), ([1], ["a", "b", "c"]), (Array(0..<500), (0..<700).map(String.init))]
        for (a, b) in cases {
            let p = Pipeline.zip(Pipeline(a) | op.map { (x: Int) async in x }.workers(2), Pipeline(b))
            let out = try await p.collect()
            #expect(out.map(\.0) == Array(a.prefix(Swift.min(a.count, b.count))))
            #expect(out.map(\.1) == Array(b.prefix(Swift.min(a.count, b.count))))
        }
    }

    @Test func zipWithAnEndlessInputEndsAndStopsReadingIt() async throws {
        let pulled = Counter()
        let p = Pipeline.zip(Pipeline(["a", "b"]), Pipeline(CountingSequence(count: nil, pulled: pulled)))
            | op.map { "\($0.0)\($0.1)" }
        #expect(try await withDeadline { try await p.collect() } == ["a0", "b1"])
        let after = pulled.value
        await yieldRepeatedly()
        #expect(pulled.value == after)   // nothing reads the endless input once the run returned
    }

    @Test func zipFailsAfterThePairsBeforeTheFailure() async throws {
        let failing = Pipeline(0..<10) | op.map { (x: Int) throws -> Int in
            if x == 4 { throw ShapeBoom() }
            return x
        }
        let (items, error) = await readUntilFailure(Pipeline<(Int, Int)>.zip(failing, Pipeline(CountingSequence(count: nil))))
        #expect(items.map(\.0) == [0, 1, 2, 3])
        #expect((error as? StageFailure)?.underlying is ShapeBoom)
    }

    @Test func aCancelledCallerGetsCancellationErrorAndEveryInputStops() async throws {
        let running = HighWater(), started = Counter()
        let blocked = Pipeline(0..<100) | op.map { (x: Int) async throws -> Int in
            running.enter(); defer { running.leave() }
            started.increment()
            try await Gate().wait()
            return x
        }.workers(2)
        for shape in 0..<3 {
            let p: Pipeline<Int> = switch shape {
            case 0: Pipeline.merge(blocked, blocked)
            case 1: Pipeline.concat(blocked, blocked)
            default: Pipeline.zip(blocked, blocked) | op.map { $0.0 }
            }
            await expectCancellationStopsEverything(p, started: started, atLeast: started.value + 2, running: running)
        }
    }

    @Test func withAStalledConsumerTheInputsReadStayWithinTheBound() async throws {
        let pulledA = Counter(), pulledB = Counter(), gate = Gate()
        let p = Pipeline.merge(
            Pipeline(CountingSequence(count: nil, pulled: pulledA)) | op.map { (x: Int) async in x }.buffer(8),
            Pipeline(CountingSequence(count: nil, pulled: pulledB)) | op.map { (x: Int) async in x }.workers(2).buffer(4))
            | op.map { (x: Int) async in x }.buffer(2)
        let bound = p.inFlightBound
        let first = Counter()
        async let run: Void = p.forEach { _ in
            if first.increment() == 1 { try await gate.wait() } else { throw CancellationError() }
        }
        await pulledA.wait(atLeast: 9)
        await pulledB.wait(atLeast: 5)
        await yieldRepeatedly()
        let pulled = pulledA.value + pulledB.value
        gate.open()
        _ = try? await run
        #expect(pulled <= bound, "pulled \(pulled), bound \(bound)")
        #expect(bound < 100_000)
    }
}
