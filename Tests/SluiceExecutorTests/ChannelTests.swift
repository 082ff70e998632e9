// Async tests of `Channel`: every item moves exactly once under contention, order is kept, and
// every waiter is released by items, `finish`, `cancel` or the cancellation of its task.
import Testing
@testable import SluiceExecutor
import SluiceTestSupport

/// What a receive ended with, as a value a child task can return.
enum ReceiveOutcome: Hashable, Sendable {
    case items(first: Int, [Int])
    case end
    case cancelled
    case failed(String)

    static func of(_ channel: Channel<Int>, limit: Int) async -> ReceiveOutcome {
        var buffer: [Int] = []
        do {
            guard let first = try await channel.receive(into: &buffer, limit: limit) else { return .end }
            return .items(first: first, buffer)
        } catch is CancellationError {
            return .cancelled
        } catch {
            return .failed("\(error)")
        }
    }
}

/// What a send ended with.
enum SendOutcome: Equatable, Sendable {
    case sent
    case cancelled
    case failed(String)

    static func of(_ channel: Channel<Int>, _ items: [Int]) async -> SendOutcome {
        var batch = items
        do {
            try await channel.send(&batch)
            return batch.isEmpty ? .sent : .failed("items left: \(batch)")
        } catch is CancellationError {
            return .cancelled
        } catch {
            return .failed("\(error)")
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ChannelTests {
    // MARK: contention

    /// Producers send single items and batches of 1–4; consumers take with different limits.
    /// Every item arrives exactly once, sequence numbers are exactly 0..<total, and each producer's
    /// items keep their order.
    @Test(arguments: [0, 1, 3])
    func manyProducersAndConsumersMoveEveryItemExactlyOnce(capacity: Int) async throws {
        let producers = 4, consumers = 3, perProducer = 400
        let channel = Channel<Int>(capacity: capacity, producers: producers)
        let received = try await withDeadline(seconds: 30) {
            await withTaskGroup(of: [(sequence: Int, value: Int)].self) { group in
                for p in 0..<producers {
                    group.addTask {
                        var rng = TestRandom(seed: UInt64(p + 1))
                        var next = p * perProducer
                        let end = next + perProducer
                        while next < end {
                            let n = min(end - next, rng.next(upTo: 5))
                            if n == 0 {
                                try? await channel.send(next)
                                next += 1
                            } else {
                                var batch = Array(next..<next + n)
                                try? await channel.send(&batch)
                                #expect(batch.isEmpty)
                                next += n
                            }
                        }
                        channel.finish()
                        return []
                    }
                }
                for c in 0..<consumers {
                    group.addTask {
                        var got: [(sequence: Int, value: Int)] = []
                        var buffer: [Int] = []
                        while let first = try? await channel.receive(into: &buffer, limit: 1 + 2 * c) {
                            #expect(buffer.count >= 1 && buffer.count <= 1 + 2 * c)
                            for (i, x) in buffer.enumerated() { got.append((first + i, x)) }
                            buffer.removeAll(keepingCapacity: true)
                        }
                        return got
                    }
                }
                var all: [(sequence: Int, value: Int)] = []
                for await part in group { all += part }
                return all.sorted { $0.sequence < $1.sequence }.map { [$0.sequence, $0.value] }
            }
        }
        let total = producers * perProducer
        #expect(received.map { $0[0] } == Array(0..<total), "sequence numbers are 0..<total, each once")
        #expect(received.map { $0[1] }.sorted() == Array(0..<total), "every item exactly once")
        for p in 0..<producers {
            let mine = received.map { $0[1] }.filter { $0 / perProducer == p }
            #expect(mine == Array(p * perProducer..<(p + 1) * perProducer), "producer \(p)'s items in order")
        }
        #expect(!channel.isCancelled)
    }

    @Test(arguments: [0, 3])
    func singleProducerSingleConsumerKeepsFIFO(capacity: Int) async throws {
        let channel = Channel<Int>(capacity: capacity)
        let total = 3_000
        let received = try await withDeadline(seconds: 30) {
            await withTaskGroup(of: [Int].self) { group in
                group.addTask {
                    var rng = TestRandom(seed: 42)
                    var next = 0
                    while next < total {
                        let n = min(total - next, 1 + rng.next(upTo: 7))
                        var batch = Array(next..<next + n)
                        try? await channel.send(&batch)
                        next += n
                    }
                    channel.finish()
                    return []
                }
                group.addTask {
                    var got: [Int] = []
                    var rng = TestRandom(seed: 7)
                    var expectedFirst = 0
                    while let first = try? await channel.receive(into: &got, limit: 1 + rng.next(upTo: 5)) {
                        #expect(first == expectedFirst)
                        expectedFirst = got.count
                    }
                    return got
                }
                var result: [Int] = []
                for await part in group { result += part }
                return result
            }
        }
        #expect(received == Array(0..<total))
    }

    // MARK: non-waiting receive

    @Test func tryReceiveNeverWaits() throws {
        let channel = Channel<Int>(capacity: 4)
        var buffer: [Int] = []
        #expect(try channel.tryReceive(into: &buffer, limit: 2) == .empty)
        channel.finish()
        #expect(try channel.tryReceive(into: &buffer, limit: 2) == .end)
        let cancelled = Channel<Int>(capacity: 4)
        cancelled.cancel()
        #expect(throws: CancellationError.self) { try cancelled.tryReceive(into: &buffer, limit: 2) }
    }

    @Test func sendWithRoomAndReceiveWithItemsReturnAtOnce() async throws {
        let channel = Channel<Int>(capacity: 4)
        var batch = [1, 2, 3]
        try await channel.send(&batch)
        #expect(batch.isEmpty)
        #expect(channel.buffered == 3)
        var buffer: [Int] = []
        #expect(try channel.tryReceive(into: &buffer, limit: 2) == .items(first: 0, count: 2))
        #expect(try await channel.receive(into: &buffer, limit: 8) == 2)
        #expect(buffer == [1, 2, 3])
    }

    // MARK: blocked receivers

    @Test func blockedReceiverIsWokenByFinish() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 2)
        let done = Counter()
        let outcomes = await withTaskGroup(of: ReceiveOutcome.self) { group in
            for _ in 0..<3 {
                group.addTask(executorPreference: executor) {
                    defer { done.increment() }
                    return await ReceiveOutcome.of(channel, limit: 4)
                }
            }
            executor.runUntilIdle()
            #expect(done.value == 0, "all three are waiting on the empty channel")
            channel.finish()
            executor.runUntilIdle()
            #expect(done.value == 3, "finish woke every receiver")
            return await collect(&group, ifNot: done.value == 3, release: channel, executor)
        }
        #expect(outcomes == [.end, .end, .end])
    }

    @Test func blockedReceiverIsWokenByASender() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 0)
        let done = Counter()
        let outcomes = await withTaskGroup(of: ReceiveOutcome.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                return await ReceiveOutcome.of(channel, limit: 4)
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                // The sender reports `.end` for "sent".
                return await SendOutcome.of(channel, [5, 6]) == .sent ? .end : .failed("send")
            }
            executor.runUntilIdle()
            #expect(done.value == 2, "the receiver took both items and so released the sender")
            return await collect(&group, ifNot: done.value == 2, release: channel, executor)
        }
        #expect(Set(outcomes) == [.items(first: 0, [5, 6]), .end])
    }

    @Test func blockedReceiverIsReleasedByCancel() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 2)
        let done = Counter()
        let outcomes = await withTaskGroup(of: ReceiveOutcome.self) { group in
            for _ in 0..<2 {
                group.addTask(executorPreference: executor) {
                    defer { done.increment() }
                    return await ReceiveOutcome.of(channel, limit: 1)
                }
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            channel.cancel()
            executor.runUntilIdle()
            #expect(done.value == 2)
            return await collect(&group, ifNot: done.value == 2, release: channel, executor)
        }
        #expect(outcomes == [.cancelled, .cancelled])
    }

    @Test func cancellingTheWaitingReceiverTaskResumesIt() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 2)
        let done = Counter()
        let outcomes = await withTaskGroup(of: ReceiveOutcome.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                return await ReceiveOutcome.of(channel, limit: 1)
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            group.cancelAll()
            executor.runUntilIdle()
            #expect(done.value == 1, "task cancellation resumed the waiting receiver")
            return await collect(&group, ifNot: done.value == 1, release: channel, executor)
        }
        #expect(outcomes == [.cancelled])
        #expect(channel.isCancelled, "cancelling a waiter stops the channel")
    }

    @Test func receiveInAnAlreadyCancelledTaskThrows() async {
        let channel = Channel<Int>(capacity: 2)
        let outcome = await withTaskGroup(of: ReceiveOutcome.self) { group in
            group.cancelAll()
            group.addTask { await ReceiveOutcome.of(channel, limit: 1) }
            return await group.next()!
        }
        #expect(outcome == .cancelled)
    }

    // MARK: blocked senders

    @Test func blockedSenderIsReleasedByAReceiver() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 1)
        let done = Counter()
        let outcomes = await withTaskGroup(of: SendOutcome.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                return await SendOutcome.of(channel, [1, 2, 3])
            }
            executor.runUntilIdle()
            #expect(done.value == 0, "the channel holds one item: the sender waits")
            #expect(channel.buffered == 3, "one queued, two parked")
            var buffer: [Int] = []
            #expect((try? channel.tryReceive(into: &buffer, limit: 10)) == .items(first: 0, count: 3))
            #expect(buffer == [1, 2, 3])
            executor.runUntilIdle()
            #expect(done.value == 1)
            return await collect(&group, ifNot: done.value == 1, release: channel, executor)
        }
        #expect(outcomes == [.sent])
    }

    @Test func rendezvousSenderWaitsUntilItsWholeBatchIsTaken() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 0)
        let done = Counter()
        let outcomes = await withTaskGroup(of: SendOutcome.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                return await SendOutcome.of(channel, [1, 2])
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            var buffer: [Int] = []
            #expect((try? channel.tryReceive(into: &buffer, limit: 1)) == .items(first: 0, count: 1))
            executor.runUntilIdle()
            #expect(done.value == 0, "one item is still untaken")
            #expect((try? channel.tryReceive(into: &buffer, limit: 1)) == .items(first: 1, count: 1))
            executor.runUntilIdle()
            #expect(done.value == 1)
            #expect(buffer == [1, 2])
            return await collect(&group, ifNot: done.value == 1, release: channel, executor)
        }
        #expect(outcomes == [.sent])
    }

    @Test func blockedSenderIsReleasedByCancel() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 1)
        let done = Counter()
        let outcomes = await withTaskGroup(of: SendOutcome.self) { group in
            for batch in [[1, 2], [3]] {
                group.addTask(executorPreference: executor) {
                    defer { done.increment() }
                    return await SendOutcome.of(channel, batch)
                }
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            channel.cancel()
            executor.runUntilIdle()
            #expect(done.value == 2)
            #expect(channel.buffered == 0, "items are dropped")
            return await collect(&group, ifNot: done.value == 2, release: channel, executor)
        }
        #expect(outcomes == [.cancelled, .cancelled])
    }

    @Test func cancellingTheWaitingSenderTaskResumesIt() async {
        let executor = ManualExecutor()
        let channel = Channel<Int>(capacity: 0)
        let done = Counter()
        let outcomes = await withTaskGroup(of: SendOutcome.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                return await SendOutcome.of(channel, [1])
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            group.cancelAll()
            executor.runUntilIdle()
            #expect(done.value == 1, "task cancellation resumed the parked sender")
            return await collect(&group, ifNot: done.value == 1, release: channel, executor)
        }
        #expect(outcomes == [.cancelled])
        #expect(channel.isCancelled)
    }

    @Test func sendAfterCancelThrows() async {
        let channel = Channel<Int>(capacity: 4)
        channel.cancel()
        #expect(await SendOutcome.of(channel, [1]) == .cancelled)
        #expect(await ReceiveOutcome.of(channel, limit: 1) == .cancelled)
    }

    /// A cancelled task that many senders and receivers wait on, all on the cooperative pool: the
    /// whole group ends (no hang) and nobody reports success after the cancel.
    @Test func cancellingAGroupOfWaitersNeverHangs() async throws {
        for capacity in [0, 1] {
            let channel = Channel<Int>(capacity: capacity, producers: 4)
            let started = Counter()
            try await withDeadline(seconds: 20) {
                await withTaskGroup(of: Void.self) { group in
                    for p in 0..<4 {
                        group.addTask {
                            started.increment()
                            var i = 0
                            while (try? await channel.send(p * 1_000_000 + i)) != nil { i += 1 }
                        }
                    }
                    group.addTask {
                        started.increment()
                        var buffer: [Int] = []
                        while (try? await channel.receive(into: &buffer, limit: 1)) != nil { buffer.removeAll() }
                    }
                    await started.wait(atLeast: 5)
                    group.cancelAll()
                }
            }
            #expect(channel.isCancelled)
        }
    }
}

/// Collects the group's results once every child has finished. If some child is still waiting (the
/// behaviour under test is broken), cancels the channel first so the test fails instead of hanging.
private func collect<T: Sendable>(
    _ group: inout TaskGroup<T>, ifNot finished: Bool, release channel: Channel<Int>, _ executor: ManualExecutor
) async -> [T] {
    if !finished {
        channel.cancel()
        executor.runUntilIdle()
    }
    var results: [T] = []
    while let r = await group.next() { results.append(r) }
    return results
}
