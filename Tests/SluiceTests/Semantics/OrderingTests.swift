// DESIGN §3.2: input order by default (bounded reorder window); `.unordered()` emits in completion
// order and never holds a finished result back.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Testing

@Suite struct OrderingTests {
    /// Item i finishes only after items i+1… have: completion order is the reverse of input order.
    static func reverseCompletion(_ n: Int) -> Flow<Int, Int> {
        let finished = Counter()
        return op.map { (x: Int) async -> Int in
            await finished.wait(atLeast: n - 1 - x)
            finished.increment()
            return x
        }
    }

    @Test func orderedStageKeepsInputOrderAcrossWorkers() async throws {
        let out = try await withDeadline {
            try await (Pipeline(0..<8) | Self.reverseCompletion(8).workers(8)).collect()
        }
        #expect(out == Array(0..<8))
    }

    @Test func orderIsKeptEndToEndThroughSeveralParallelStages() async throws {
        let p = Pipeline(0..<500)
            | op.map { (x: Int) async in x * 2 }.workers(4)
            | op.filter { (x: Int) async in x % 3 != 0 }.workers(3)
            | op.flatMap { (x: Int) in [x, x + 1] }.workers(2)
        let expected = (0..<500).map { $0 * 2 }.filter { $0 % 3 != 0 }.flatMap { [$0, $0 + 1] }
        #expect(try await p.collect() == expected)
    }

    @Test func unorderedEmitsInCompletionOrderWithoutWaiting() async throws {
        // Item 0 finishes only once the consumer has received the 7 others: an implementation that
        // held finished results back (or kept input order) would hang here.
        let received = Counter()
        let p = Pipeline(0..<8) | op.map { (x: Int) async -> Int in
            if x == 0 { await received.wait(atLeast: 7) }
            return x
        }.workers(8).unordered()
        let out = try await withDeadline {
            var seen: [Int] = []
            try await p.forEach { x in
                seen.append(x)
                received.increment()
            }
            return seen
        }
        #expect(out.last == 0)
        #expect(out.sorted() == Array(0..<8))
    }

    @Test func unorderedDoesNotWaitForTheSourceToDeliverFinishedResults() async throws {
        // The source gives one item and then blocks until the consumer has received it.
        let (source, continuation) = AsyncStream.makeStream(of: Int.self)
        continuation.yield(1)
        let p = Pipeline(source) | op.map { (x: Int) async in x * 10 }.workers(2).unordered()
        let out = try await withDeadline {
            var seen: [Int] = []
            try await p.forEach { x in
                seen.append(x)
                if x == 10 {
                    continuation.yield(2)
                    continuation.finish()
                }
            }
            return seen
        }
        #expect(out == [10, 20])
    }

    @Test func aSlowItemDoesNotLetTheReorderWindowGrow() async throws {
        // Item 0 is stuck; the other items are instant. With a bounded window the stage stops
        // taking items after a few; an unbounded one would run through all 1,000.
        let gate = Gate(), started = Counter()
        let stage = op.map { (x: Int) async throws -> Int in
            started.increment()
            if x == 0 { try await gate.wait() }
            return x
        }.workers(2)
        let p = Pipeline(0..<1_000) | stage
        let bound = Plan(nodes: p.nodes, synchronousSource: true).inFlightBound
        async let out = p.collect()
        await started.wait(atLeast: 2)
        await yieldRepeatedly()
        let whileStuck = started.value
        gate.open()
        #expect(try await out == Array(0..<1_000))
        #expect(whileStuck <= bound)
        #expect(whileStuck < 100)
    }
}
