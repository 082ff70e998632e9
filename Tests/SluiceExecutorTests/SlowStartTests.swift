// The channel's slow start: its room in force starts small and doubles only with what its
// consumers take.
import Testing
@testable import SluiceExecutor

@Suite struct SlowStartTests {
    @Test func aConsumerTakingHalfTheRoomDoublesIt() {
        var m = ChannelStateMachine<Int, Int>(capacity: 64, producers: 1, startingLimit: 2)
        #expect(m.limit == 2)
        var batch = [1, 2, 3]
        _ = m.send(&batch)
        #expect(batch == [3], "only the room in force is queued")
        var out: [Int] = []
        _ = m.receive(into: &out, limit: 10)
        #expect(m.limit == 4)
        // A consumer that takes little (1 of 4) does not grow it.
        var more = [4, 5, 6, 7]
        _ = m.send(&more)
        _ = m.receive(into: &out, limit: 1)
        #expect(m.limit == 4)
    }

    @Test func itNeverGrowsPastTheCapacityAndStartsThereWithoutSlowStart() {
        var m = ChannelStateMachine<Int, Int>(capacity: 5, producers: 1, startingLimit: 4)
        var batch = [1, 2, 3, 4]
        _ = m.send(&batch)
        var out: [Int] = []
        _ = m.receive(into: &out, limit: 10)
        #expect(m.limit == 5)
        #expect(ChannelStateMachine<Int, Int>(capacity: 512, producers: 1).limit == 512)
    }

    /// The workers of a parallel stage each take one item: while others wait, a one-item receive
    /// grows the room to what they ask for together (W7, 256 workers: the source channel stayed
    /// at 4 items otherwise).
    @Test func oneOfSeveralWaitingConsumersGrowsIt() {
        var m = ChannelStateMachine<Int, Int>(capacity: 256, producers: 1, startingLimit: 4)
        var out: [Int] = []
        // Twelve workers wait for items.
        for worker in 1...12 {
            guard case .suspendAndWait = m.receive(into: &out, limit: 1) else { Issue.record("expected to wait"); return }
            _ = m.wait(continuation: worker)
        }
        var batch = [0]
        _ = m.send(&batch)   // one item: wakes one worker; eleven still wait
        #expect(m.waitingReceivers == 11)
        _ = m.receive(into: &out, limit: 1)
        #expect(m.limit == 8, "a one-item receive with consumers waiting doubles the room (up to twice their demand)")
        // Alone, a one-item receive of 16 does not.
        var lone = ChannelStateMachine<Int, Int>(capacity: 256, producers: 1, startingLimit: 16)
        var items = [1, 2]
        _ = lone.send(&items)
        _ = lone.receive(into: &out, limit: 1)
        #expect(lone.limit == 16)
    }
}
