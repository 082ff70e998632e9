// DESIGN §3.4: stages run at the same time — stage 2 works on item 1 while stage 1 works on item 2.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct InterStageConcurrencyTests {
    @Test func stage2WorksOnItem1WhileStage1WorksOnItem2() async throws {
        let stage2HasItem1 = Gate()
        let stage1 = op.map { (x: Int) async throws -> Int in
            if x == 2 { try await stage2HasItem1.wait() }   // needs stage 2 to be busy with item 1
            return x
        }
        let stage2 = op.map { (x: Int) async -> Int in
            if x == 1 { stage2HasItem1.open() }
            return x
        }
        let out = try await withDeadline { try await (Pipeline([1, 2, 3]) | stage1 | stage2).collect() }
        #expect(out == [1, 2, 3])
    }

    @Test func theConsumerReceivesItemsWhileStagesKeepWorking() async throws {
        let consumerHasItem1 = Gate()
        let stage = op.map { (x: Int) async throws -> Int in
            if x == 2 { try await consumerHasItem1.wait() }
            return x
        }
        let out = try await withDeadline {
            var seen: [Int] = []
            try await (Pipeline([1, 2]) | stage).forEach { x in
                seen.append(x)
                if x == 1 { consumerHasItem1.open() }
            }
            return seen
        }
        #expect(out == [1, 2])
    }

    @Test func workersRunConcurrently() async throws {
        let inFlight = HighWater(), allIn = Counter()
        let stage = op.map { (x: Int) async -> Int in
            inFlight.enter()
            allIn.increment()
            await allIn.wait(atLeast: 4)   // all four must be in flight together to get past this
            inFlight.leave()
            return x
        }.workers(4)
        let out = try await withDeadline { try await (Pipeline(0..<4) | stage).collect() }
        #expect(out == [0, 1, 2, 3])
        #expect(inFlight.max == 4)
    }
}
