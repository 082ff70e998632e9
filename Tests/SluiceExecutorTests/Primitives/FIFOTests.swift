// FIFO: first in, first out through every way of taking items, across storage compactions.
import SluiceExecutor
import SluiceTestSupport
import Testing

@Suite struct FIFOTests {
    @Test func popFirstIsFirstInFirstOutAcrossCompactions() {
        var queue = FIFO<Int>()
        var expected = 0, next = 0
        // Enough items for the consumed prefix to pass 1024 and half the array several times.
        for round in 0..<2_000 {
            for _ in 0..<(round % 7 + 3) { queue.append(next); next += 1 }
            for _ in 0..<(round % 11 + 1) {
                guard let x = queue.popFirst() else { break }
                #expect(x == expected)
                expected += 1
            }
            #expect(queue.count == next - expected)
        }
        while let x = queue.popFirst() {
            #expect(x == expected)
            expected += 1
        }
        #expect(expected == next && queue.isEmpty)
        #expect(queue.popFirst() == nil)
    }

    @Test func takeAndPopFirstInterleavedKeepOrder() {
        var random = TestRandom(seed: 7)
        var queue = FIFO<Int>()
        var next = 0, out: [Int] = []
        for _ in 0..<3_000 {
            switch random.next(upTo: 3) {
            case 0:
                let n = random.next(upTo: 8)
                queue.append(contentsOf: next..<(next + n))
                next += n
            case 1:
                let before = out.count, available = queue.count, limit = random.next(upTo: 6)
                let n = queue.take(upTo: limit, into: &out)
                #expect(n == min(limit, available) && out.count == before + n)
            default:
                if let x = queue.popFirst() { out.append(x) }
            }
        }
        queue.take(upTo: .max, into: &out)
        #expect(out == Array(0..<next))
    }

    @Test func takeAppendsToTheBufferAndReportsHowMany() {
        var queue = FIFO(adopting: [1, 2, 3])
        var buffer = [0]
        #expect(queue.take(upTo: 2, into: &buffer) == 2)
        #expect(buffer == [0, 1, 2])
        #expect(queue.take(upTo: 5, into: &buffer) == 1)
        #expect(buffer == [0, 1, 2, 3] && queue.isEmpty)
        #expect(queue.take(upTo: 5, into: &buffer) == 0)
    }

    @Test func moveFeedsAnotherQueueOldestFirst() {
        var source = FIFO(adopting: [1, 2, 3, 4])
        var target = FIFO<Int>()
        target.append(0)
        source.move(upTo: 3, into: &target)
        #expect(source.count == 1 && target.count == 4)
        source.move(upTo: 3, into: &target)
        #expect(source.isEmpty)
        var all: [Int] = []
        target.take(upTo: .max, into: &all)
        #expect(all == [0, 1, 2, 3, 4])
    }

    @Test func releaseStorageEmptiesTheQueueAndKeepsTheCapacity() {
        var queue = FIFO(adopting: Array(0..<100))
        _ = queue.popFirst()
        let storage = queue.releaseStorage()
        #expect(storage.isEmpty && storage.capacity >= 100)
        #expect(queue.isEmpty && queue.count == 0)
        queue.append(7)
        #expect(queue.popFirst() == 7)
    }

    @Test func removeAllEmptiesTheQueue() {
        var queue = FIFO(adopting: [1, 2, 3])
        _ = queue.popFirst()
        queue.removeAll()
        #expect(queue.isEmpty && queue.popFirst() == nil)
    }
}
