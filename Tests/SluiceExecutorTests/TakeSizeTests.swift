// The adaptive take size: one item first, then what fits in a chunk's work (growing at most
// twofold per chunk), one when items are slow.
import Testing
@testable import SluiceExecutor

@Suite struct TakeSizeTests {
    @Test func startsAtOneAndDoublesWhileItemsAreCheapUpToTheLimit() {
        var take = TakeSize(limit: 100)
        #expect(take.current == 1)
        var seen: [Int] = []
        for _ in 0..<9 {
            take.update(items: take.current, elapsed: .nanoseconds(100) * take.current)
            seen.append(take.current)
        }
        #expect(seen == [2, 4, 8, 16, 32, 64, 100, 100, 100])
    }

    @Test func takesWhatFitsInAChunksWorkAndOneWhenItemsAreSlow() {
        var take = TakeSize(limit: 512)
        for _ in 0..<5 { take.update(items: take.current, elapsed: .zero) }
        #expect(take.current == 32)
        take.update(items: 32, elapsed: .microseconds(20) * 32)   // 20 µs each: 50 fit in 1 ms
        #expect(take.current == 50)
        take.update(items: 50, elapsed: .microseconds(4) * 50)    // faster: grows, at most twofold
        #expect(take.current == 100)
        take.update(items: 100, elapsed: .milliseconds(2) * 100)  // slow: one at a time
        #expect(take.current == 1)
        take.update(items: 1, elapsed: .milliseconds(2))
        #expect(take.current == 1)
    }

    /// Items under `quickItem` (5 µs) each are quick: a parallel async stage's worker then takes
    /// up to `quickChunk` of them rather than its share of the queue; slower ones are shared.
    @Test func itemsUnderFiveMicrosecondsAreQuick() {
        var take = TakeSize(limit: 128)
        #expect(!take.itemsAreQuick, "nothing measured yet: items are shared")
        take.update(items: 10, elapsed: .microseconds(49))
        #expect(take.itemsAreQuick)
        take.update(items: 10, elapsed: .microseconds(50))
        #expect(!take.itemsAreQuick)
        take.update(items: 1, elapsed: .milliseconds(3))
        #expect(!take.itemsAreQuick)
        take.update(items: 0, elapsed: .zero)
        #expect(!take.itemsAreQuick, "an empty chunk changes nothing")
        #expect(TakeSize.quickChunk == 64)
    }

    @Test func aLimitBelowOneStillTakesOne() {
        #expect(TakeSize(limit: 0).current == 1)
        var take = TakeSize(limit: 0)
        take.update(items: 1, elapsed: .zero)
        #expect(take.current == 1)
    }
}
