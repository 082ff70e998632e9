// A channel bounded by total weight as well as count: what fits is queued, the rest parks; an item
// heavier than the whole bound passes alone; slow start applies to the count.
import Testing
@testable import SluiceExecutor

@Suite struct WeightBoundTests {
    /// Items are their own weights.
    static func machine(maxWeight: Int, capacity: Int = 100) -> ChannelStateMachine<Int, Int> {
        ChannelStateMachine(capacity: capacity, producers: 1, weightBound: WeightBound(max: maxWeight) { $0 })
    }

    @Test func itemsQueueWhileTheirWeightFitsAndTheRestParks() {
        var m = Self.machine(maxWeight: 10)
        var batch = [4, 4, 4]
        guard case .suspendAndPark = m.send(&batch) else { Issue.record("expected to park"); return }
        #expect(batch == [4] && m.queuedWeight == 8)
        guard case .resumeReceivers = m.park(&batch, continuation: 1) else { Issue.record("expected to park"); return }
        // Taking one item makes room for the parked one.
        var out: [Int] = []
        guard case .resumeWaitersAndReturnItems(_, 1, let waiters) = m.receive(into: &out, limit: 1) else {
            Issue.record("expected one item"); return
        }
        #expect(Array(waiters) == [1], "the parked sender's last item moved into the queue")
        #expect(m.queuedWeight == 8 && m.buffered == 2)
    }

    @Test func anItemHeavierThanTheBoundPassesAlone() {
        var m = Self.machine(maxWeight: 10)
        var batch = [50, 1]
        guard case .suspendAndPark = m.send(&batch) else { Issue.record("expected to park"); return }
        #expect(m.buffered == 1 && m.queuedWeight == 50, "the heavy item entered the empty queue alone")
        #expect(batch == [1])
        _ = m.park(&batch, continuation: 1)
        var out: [Int] = []
        _ = m.receive(into: &out, limit: 1)
        #expect(out == [50])
        #expect(m.queuedWeight == 1, "the light item moved in behind it")
    }

    @Test func theWeightIsReleasedAsItemsLeave() {
        var m = Self.machine(maxWeight: 100)
        var batch = [10, 20, 30]
        _ = m.send(&batch)
        #expect(m.queuedWeight == 60)
        var out: [Int] = []
        _ = m.receive(into: &out, limit: 2)
        #expect(m.queuedWeight == 30)
        _ = m.receive(into: &out, limit: 2)
        #expect(m.queuedWeight == 0 && out == [10, 20, 30])
    }

    @Test func negativeWeightsCountAsZero() {
        var m = Self.machine(maxWeight: 5)
        var batch = [-7, 5, -1]
        _ = m.send(&batch)
        #expect(batch.isEmpty && m.queuedWeight == 5)
    }
}
