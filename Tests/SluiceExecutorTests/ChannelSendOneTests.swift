// `Channel.sendOne`, the one-item send an asynchronous stage's kernel uses (compiled for the
// element type): on the common path it queues the item and resumes a waiting receiver; otherwise
// (full, a parked sender ahead, a weight bound, not open) it behaves exactly as `send`.
import Testing
@testable import SluiceExecutor
import SluiceTestSupport

@Suite(.timeLimit(.minutes(1)))
struct ChannelSendOneTests {
    /// Producers mix `sendOne` with batch sends; every item arrives exactly once and each
    /// producer's items keep their order, whatever the capacity (0: every `sendOne` takes the
    /// parking path; 1: most do; 64: few do).
    @Test(arguments: [0, 1, 64])
    func mixedWithBatchSendsEveryItemArrivesOnceInOrder(capacity: Int) async throws {
        let producers = 3, perProducer = 500
        let channel = Channel<Int>(capacity: capacity, producers: producers)
        let received = try await withDeadline(seconds: 30) {
            await withTaskGroup(of: [Int].self) { group in
                for p in 0..<producers {
                    group.addTask {
                        var rng = TestRandom(seed: UInt64(p + 11))
                        var next = p * perProducer
                        let end = next + perProducer
                        while next < end {
                            let n = min(end - next, rng.next(upTo: 4))
                            if n == 0 {
                                try? await channel.sendOne(next)
                                next += 1
                            } else {
                                var batch = Array(next..<next + n)
                                try? await channel.send(&batch)
                                next += n
                            }
                        }
                        channel.finish()
                        return []
                    }
                }
                group.addTask {
                    var got: [Int] = []
                    var buffer: [Int] = []
                    while (try? await channel.receive(into: &buffer, limit: 3)) ?? nil != nil {
                        got += buffer
                        buffer.removeAll(keepingCapacity: true)
                    }
                    return got
                }
                var all: [Int] = []
                for await part in group { all += part }
                return all
            }
        }
        #expect(received.sorted() == Array(0..<producers * perProducer), "every item exactly once")
        for p in 0..<producers {
            let mine = received.filter { $0 / perProducer == p }
            #expect(mine == Array(p * perProducer..<(p + 1) * perProducer), "producer \(p)'s items in order")
        }
    }

    /// A receiver waiting on an empty channel is resumed by `sendOne` and gets the item.
    @Test func resumesAWaitingReceiver() async throws {
        let channel = Channel<Int>(capacity: 4)
        let outcome = try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: ReceiveOutcome.self) { group in
                group.addTask { await ReceiveOutcome.of(channel, limit: 8) }
                await waitUntil { channel.waitingReceivers == 1 }
                try await channel.sendOne(7)
                return try await group.next()!
            }
        }
        #expect(outcome == .items(first: 0, [7]))
    }

    /// A full channel: `sendOne` waits for room, and its item comes after the parked batch ahead
    /// of it.
    @Test func waitsForRoomBehindAParkedSender() async throws {
        let channel = Channel<Int>(capacity: 1)
        let received = try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var first = [0]
                try await channel.send(&first)              // the channel is full now
                group.addTask { _ = await SendOutcome.of(channel, [1, 2]) }
                await waitUntil { channel.buffered == 3 }   // the batch is parked
                group.addTask { try await channel.sendOne(3) }
                var got: [Int] = []
                while got.count < 4 { _ = try await channel.receive(into: &got, limit: 4) }
                try await group.waitForAll()
                return got
            }
        }
        #expect(received == [0, 1, 2, 3])
    }

    /// Under a weight bound `sendOne` takes the bounded path: an item heavier than the room left
    /// waits until the queue is empty.
    @Test func aWeightBoundIsObeyed() async throws {
        let channel = Channel<Int>(capacity: 10, weightBound: WeightBound(max: 10) { $0 })
        try await channel.sendOne(6)
        let sent = Counter()
        try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await channel.sendOne(5)            // 6 + 5 > 10: waits
                    sent.increment()
                }
                await waitUntil { channel.buffered == 2 }
                #expect(sent.value == 0, "a heavier item than the room left must wait")
                #expect(channel.queuedWeight == 6)
                var got: [Int] = []
                _ = try await channel.receive(into: &got, limit: 1)
                #expect(got == [6])
                try await group.waitForAll()
            }
        }
        #expect(sent.value == 1)
        #expect(channel.queuedWeight == 5)
    }

    /// A cancelled or finished channel takes no item: `sendOne` throws `CancellationError`.
    @Test func aClosedChannelRefusesTheItem() async throws {
        let cancelled = Channel<Int>(capacity: 4)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.sendOne(1) }
        let finished = Channel<Int>(capacity: 4)
        finished.finish()
        await #expect(throws: CancellationError.self) { try await finished.sendOne(1) }
    }

    /// The queued-count hint follows `sendOne` and receives.
    @Test func hintsFollowSendOne() async throws {
        let channel = Channel<Int>(capacity: 8)
        try await channel.sendOne(1)
        try await channel.sendOne(2)
        #expect(channel.queuedHint == 2)
        var got: [Int] = []
        _ = try await channel.receive(into: &got, limit: 8)
        #expect(channel.queuedHint == 0)
    }
}

/// Yields until `condition` holds (bounded by the caller's deadline).
private func waitUntil(_ condition: () -> Bool) async {
    while !condition() { await Task.yield() }
}
