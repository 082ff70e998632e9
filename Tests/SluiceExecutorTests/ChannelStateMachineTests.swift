// Synchronous tests of the channel's state machine: every transition, with Ints standing in for
// continuations, and a harness that fails the test if any continuation is returned twice.
import SluiceTestSupport
import Testing
@testable import SluiceExecutor

/// Drives a `ChannelStateMachine<Int, Int>` the way `Channel` does, handing it fresh continuation
/// ids and checking every continuation it returns: each must have been handed in, and none may come
/// back twice (a double resume crashes a real run; a leak hangs it).
final class ChannelHarness {
    private(set) var machine: ChannelStateMachine<Int, Int>
    private var nextID = 0
    /// Handed to the machine and not returned yet.
    private(set) var suspended: Set<Int> = []
    /// Returned by the machine so far.
    private(set) var resumed: Set<Int> = []
    /// Returned by the most recent transition, in order.
    private(set) var woken: [Int] = []

    init(capacity: Int, producers: Int = 1) {
        machine = ChannelStateMachine(capacity: capacity, producers: producers)
    }

    private func newID() -> Int {
        nextID += 1
        suspended.insert(nextID)
        return nextID
    }

    private func record(_ continuations: some Sequence<Int>, _ location: SourceLocation) {
        let continuations = Array(continuations)
        woken = continuations
        for c in continuations {
            #expect(!resumed.contains(c), "continuation \(c) returned twice", sourceLocation: location)
            #expect(suspended.contains(c), "continuation \(c) returned but never handed in", sourceLocation: location)
            resumed.insert(c)
            suspended.remove(c)
        }
        checkPhaseInvariants(location)
    }

    /// What each phase's documentation promises about the data it holds.
    private func checkPhaseInvariants(_ location: SourceLocation) {
        // Every continuation handed in and not returned is held by the machine, once.
        #expect(machine.waitingReceivers + machine.parkedSenders == suspended.count, sourceLocation: location)
        switch machine.phase {
        case .open(let producers, _):
            #expect(producers >= 1, sourceLocation: location)
        case .finished:
            #expect(machine.waitingReceivers == 0, "no receiver waits once finished", sourceLocation: location)
        case .cancelled:
            #expect(machine.buffered == 0 && machine.waitingReceivers == 0 && machine.parkedSenders == 0,
                    "a cancelled channel holds nothing", sourceLocation: location)
        }
    }

    func isSuspended(_ id: Int) -> Bool { suspended.contains(id) }

    /// The machine's phase, by name.
    var phase: String {
        switch machine.phase {
        case .open: "open"
        case .finished: "finished"
        case .cancelled: "cancelled"
        }
    }

    enum Sent: Equatable {
        case done
        /// Did not fit: `rest` is what the sender still holds.
        case mustPark(rest: [Int])
        case cancelled
    }

    /// `send` alone (the caller must `park` after `.mustPark`).
    func send(_ items: [Int], urgent: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> Sent {
        var batch = items
        switch machine.send(&batch, urgent: urgent) {
        case .resumeReceivers(let receivers):
            #expect(batch.isEmpty, sourceLocation: sourceLocation)
            record(receivers, sourceLocation)
            return .done
        case .suspendAndPark:
            #expect(!batch.isEmpty, sourceLocation: sourceLocation)
            record([], sourceLocation)
            return .mustPark(rest: batch)
        case .throwCancellation:
            #expect(batch.isEmpty, "a refused send drops its items", sourceLocation: sourceLocation)
            record([], sourceLocation)
            return .cancelled
        }
    }

    /// Parks a sender holding `rest`; returns its continuation id.
    func park(_ rest: [Int], sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let id = newID()
        var batch = rest
        switch machine.park(&batch, continuation: id) {
        case .resumeReceivers(let receivers):
            #expect(!receivers.contains(id), "a parked sender is not resumed by its own park", sourceLocation: sourceLocation)
            record(receivers, sourceLocation)
        case .resumeSender(let sender):
            #expect(sender == id, sourceLocation: sourceLocation)
            record([sender], sourceLocation)
        }
        #expect(batch.isEmpty, sourceLocation: sourceLocation)
        return id
    }

    /// What `Channel.send` does: send, and park the rest if it did not fit. Returns the parked
    /// sender's id, or nil if everything fit (or the channel was cancelled).
    @discardableResult
    func sendOrPark(_ items: [Int], urgent: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> Int? {
        switch send(items, urgent: urgent, sourceLocation: sourceLocation) {
        case .done, .cancelled: return nil
        case .mustPark(let rest): return park(rest, sourceLocation: sourceLocation)
        }
    }

    /// What `Channel.sendOne` does: the one-item path (`sendOne`), or `sendOrPark` when that
    /// path does not apply. Returns the parked sender's id, if any.
    @discardableResult
    func sendOneOrPark(_ item: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Int? {
        switch machine.sendOne(item) {
        case .queued:
            record([], sourceLocation)
            return nil
        case .resumeReceiver(let receiver):
            record([receiver], sourceLocation)
            return nil
        case .useSend:
            return sendOrPark([item], sourceLocation: sourceLocation)
        }
    }

    enum Received: Equatable {
        case items(first: Int, [Int])
        case mustWait
        case end
        /// The stream ended with this failure.
        case failure(String)
        case cancelled
    }

    func receive(limit: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Received {
        var buffer: [Int] = []
        let action = machine.receive(into: &buffer, limit: limit)
        if case .resumeWaitersAndReturnItems = action {} else {
            #expect(buffer.isEmpty, sourceLocation: sourceLocation)
            record([], sourceLocation)
        }
        switch action {
        case .resumeWaitersAndReturnItems(let first, let count, let waiters):
            #expect(count == buffer.count, sourceLocation: sourceLocation)
            #expect(count >= 1 && count <= limit, sourceLocation: sourceLocation)
            record(waiters, sourceLocation)
            return .items(first: first, buffer)
        case .suspendAndWait: return .mustWait
        case .returnEnd: return .end
        case .throwFailure(let failure): return .failure("\(failure)")
        case .throwCancellation: return .cancelled
        }
    }

    /// What `Channel.tryReceiveSpecialized` does for a worker of a parallel stage: `returning`
    /// (it said it would come back, and this is its return), then the common path
    /// (`receiveQueued`) or the general one, each told whether the receiver `comesBack`.
    func receive(limit: Int, returning: Bool, comesBack: Bool, sourceLocation: SourceLocation = #_sourceLocation) -> Received {
        if returning { machine.receiverReturned() }
        var buffer: [Int] = []
        if let (first, count, wake) = machine.receiveQueued(into: &buffer, limit: limit, comesBack: comesBack) {
            #expect(count == buffer.count && count >= 1 && count <= limit, sourceLocation: sourceLocation)
            record(wake.map { [$0] } ?? [], sourceLocation)
            return .items(first: first, buffer)
        }
        let action = machine.receive(into: &buffer, limit: limit, comesBack: comesBack)
        switch action {
        case .resumeWaitersAndReturnItems(let first, let count, let waiters):
            #expect(count == buffer.count && count >= 1 && count <= limit, sourceLocation: sourceLocation)
            record(waiters, sourceLocation)
            return .items(first: first, buffer)
        case .suspendAndWait: record([], sourceLocation); return .mustWait
        case .returnEnd: record([], sourceLocation); return .end
        case .throwFailure(let failure): record([], sourceLocation); return .failure("\(failure)")
        case .throwCancellation: record([], sourceLocation); return .cancelled
        }
    }

    /// A receiver that said it comes back ends instead (`Channel.receiverLeft`).
    func leave(sourceLocation: SourceLocation = #_sourceLocation) {
        record(machine.receiverLeft().map { [$0] } ?? [], sourceLocation)
    }

    /// Registers a waiting receiver; returns its id (it is in `woken` if the machine handed it
    /// straight back).
    func wait(sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let id = newID()
        switch machine.wait(continuation: id) {
        case .resumeReceiver(let receiver):
            #expect(receiver == id, sourceLocation: sourceLocation)
            record([receiver], sourceLocation)
        case .none:
            record([], sourceLocation)
        }
        return id
    }

    func poke(sourceLocation: SourceLocation = #_sourceLocation) {
        switch machine.poke() {
        case .resumeReceivers(let receivers):
            record(receivers, sourceLocation)
        case .none:
            record([], sourceLocation)
        }
    }

    func finish(failure: (any Error)? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        switch machine.finish(failure: failure) {
        case .resumeReceivers(let receivers):
            #expect(!receivers.isEmpty, "resume nobody: say none", sourceLocation: sourceLocation)
            record(receivers, sourceLocation)
        case .none:
            record([], sourceLocation)
        }
    }

    /// Cancels; `woken` holds the receivers, then the senders.
    func cancel(sourceLocation: SourceLocation = #_sourceLocation) -> (receivers: [Int], senders: [Int]) {
        switch machine.cancel() {
        case .resumeReceiversAndSenders(let receivers, let senders):
            record(receivers + senders, sourceLocation)
            return (receivers, senders)
        case .none:
            record([], sourceLocation)
            return ([], [])
        }
    }
}

/// A failure a producer ends the stream with.
struct StreamFailure: Error, CustomStringConvertible {
    let name: String
    var description: String { name }
}

@Suite struct ChannelStateMachineTests {
    // MARK: send

    @Test func sendFastPathReturnsDoneWhenEverythingFits() {
        let h = ChannelHarness(capacity: 4)
        #expect(h.send([1, 2]) == .done)
        #expect(h.send([3, 4]) == .done)
        #expect(h.woken.isEmpty)
        #expect(h.machine.buffered == 4)
        #expect(h.machine.parkedSenders == 0)
    }

    @Test func capacityIsRespected() {
        let h = ChannelHarness(capacity: 3)
        #expect(h.send([1, 2, 3]) == .done)
        #expect(h.send([4]) == .mustPark(rest: [4]))
        // Nothing beyond the capacity entered the queue: the extra item is still the sender's.
        #expect(h.machine.buffered == 3)
        #expect(h.send([]) == .done, "an empty batch always fits")
    }

    @Test func partialFitQueuesWhatFitsAndParksTheRest() {
        let h = ChannelHarness(capacity: 2)
        #expect(h.send([1, 2, 3, 4, 5]) == .mustPark(rest: [3, 4, 5]))
        #expect(h.machine.buffered == 2)
        let sender = h.park([3, 4, 5])
        #expect(h.isSuspended(sender))
        #expect(h.machine.buffered == 5)
        #expect(h.machine.parkedSenders == 1)
        #expect(h.receive(limit: 10) == .items(first: 0, [1, 2, 3, 4, 5]))
        #expect(h.woken == [sender])
    }

    @Test func unboundedChannelNeverParks() {
        let h = ChannelHarness(capacity: .max)
        for i in 0..<100 { #expect(h.send(Array(i * 10..<(i + 1) * 10)) == .done) }
        #expect(h.machine.buffered == 1000)
        #expect(h.receive(limit: 1000) == .items(first: 0, Array(0..<1000)))
    }

    // MARK: receive

    @Test func receiverTakesQueuedItemsFirstThenParkedOnes() {
        let h = ChannelHarness(capacity: 2)
        let sender = h.sendOrPark([1, 2, 3, 4, 5])!
        // Two from the queue, then one straight from the parked batch; the rest of the batch
        // moves into the queue, so the sender's whole batch is accepted and it is resumed.
        #expect(h.receive(limit: 3) == .items(first: 0, [1, 2, 3]))
        #expect(h.woken == [sender])
        #expect(h.machine.buffered == 2)
        #expect(h.machine.parkedSenders == 0)
        #expect(h.receive(limit: 3) == .items(first: 3, [4, 5]))
        #expect(h.woken.isEmpty)
        #expect(h.receive(limit: 3) == .mustWait)
    }

    @Test func parkedSenderIsResumedOnceWhenItsWholeBatchIsTakenOrMoved() {
        let h = ChannelHarness(capacity: 1)
        #expect(h.sendOrPark([1]) == nil)
        let sender = h.sendOrPark([2, 3])!
        #expect(h.receive(limit: 1) == .items(first: 0, [1]))
        // 2 moved into the queue, 3 is still parked: not yet.
        #expect(h.woken.isEmpty)
        #expect(h.isSuspended(sender))
        #expect(h.receive(limit: 1) == .items(first: 1, [2]))
        #expect(h.woken == [sender], "3 moved into the queue: the batch is accepted")
        #expect(h.receive(limit: 1) == .items(first: 2, [3]))
        #expect(h.woken.isEmpty, "resumed exactly once")
    }

    @Test func receiveLimitIsRespectedAcrossQueueAndParked() {
        let h = ChannelHarness(capacity: 3)
        h.sendOrPark([0, 1, 2])
        let a = h.sendOrPark([3, 4])!
        let b = h.sendOrPark([5, 6, 7, 8])!
        var got: [Int] = []
        var resumedOrder: [Int] = []
        var expectedFirst = 0
        while case .items(let first, let items) = h.receive(limit: 2) {
            #expect(first == expectedFirst)
            expectedFirst += items.count
            got += items
            resumedOrder += h.woken
        }
        #expect(got == Array(0...8))
        #expect(resumedOrder == [a, b])
    }

    // MARK: rendezvous

    @Test func rendezvousMovesItemsOnlyToAReceiver() {
        let h = ChannelHarness(capacity: 0)
        #expect(h.send([1, 2, 3]) == .mustPark(rest: [1, 2, 3]), "nothing is queued at capacity 0")
        let sender = h.park([1, 2, 3])
        #expect(h.receive(limit: 2) == .items(first: 0, [1, 2]))
        #expect(h.woken.isEmpty, "the sender waits until its whole batch is taken")
        #expect(h.isSuspended(sender))
        #expect(h.machine.buffered == 1)
        #expect(h.receive(limit: 2) == .items(first: 2, [3]))
        #expect(h.woken == [sender])
        #expect(h.machine.buffered == 0)
    }

    @Test func rendezvousWithAWaitingReceiver() {
        let h = ChannelHarness(capacity: 0)
        #expect(h.receive(limit: 4) == .mustWait)
        let receiver = h.wait()
        #expect(h.isSuspended(receiver))
        #expect(h.send([7]) == .mustPark(rest: [7]))
        let sender = h.park([7])
        #expect(h.woken == [receiver], "parking offers the items to the waiting receiver")
        #expect(h.receive(limit: 4) == .items(first: 0, [7]))
        #expect(h.woken == [sender])
    }

    @Test func rendezvousSendersAreServedInOrder() {
        let h = ChannelHarness(capacity: 0)
        let a = h.sendOrPark([1, 2])!
        let b = h.sendOrPark([3])!
        let c = h.sendOrPark([4, 5])!
        #expect(h.receive(limit: 3) == .items(first: 0, [1, 2, 3]))
        #expect(h.woken == [a, b])
        #expect(h.receive(limit: 3) == .items(first: 3, [4, 5]))
        #expect(h.woken == [c])
    }

    // MARK: FIFO and sequence numbers

    @Test func fifoAcrossQueueAndParkedSenders() {
        let h = ChannelHarness(capacity: 3)
        #expect(h.send([1, 2]) == .done)
        #expect(h.send([3, 4]) == .mustPark(rest: [4]))
        let b = h.park([4])
        // B is parked: C parks behind it and must not overtake it when room appears.
        let c = h.sendOrPark([5])!
        #expect(h.receive(limit: 1) == .items(first: 0, [1]))
        #expect(h.woken == [b], "4 moved into the queue before 5")
        #expect(h.send([6]) == .mustPark(rest: [6]), "C is still parked: 6 may not jump ahead of 5")
        let d = h.park([6])
        var rest: [Int] = []
        while case .items(_, let items) = h.receive(limit: 1) { rest += items }
        #expect(rest == [2, 3, 4, 5, 6])
        #expect(!h.isSuspended(c) && !h.isSuspended(d))
    }

    @Test func sequenceNumbersAreContiguousAcrossReceives() {
        let h = ChannelHarness(capacity: 2)
        var nextValue = 0
        var expectedFirst = 0
        for round in 0..<50 {
            let n = round % 5
            let batch = Array(nextValue..<nextValue + n)
            nextValue += n
            h.sendOrPark(batch)
            while case .items(let first, let items) = h.receive(limit: 1 + round % 3) {
                #expect(first == expectedFirst)
                #expect(items == Array(first..<first + items.count), "item i has sequence number i")
                expectedFirst += items.count
            }
        }
        #expect(expectedFirst == nextValue)
        #expect(h.machine.dequeued == nextValue)
    }

    // MARK: finish

    @Test func endComesAfterTheLastProducerFinishesAndTheChannelIsDrained() {
        let h = ChannelHarness(capacity: 4, producers: 3)
        h.sendOrPark([1, 2])
        h.finish()
        #expect(h.receive(limit: 10) == .items(first: 0, [1, 2]))
        #expect(h.receive(limit: 10) == .mustWait, "two producers are still open")
        h.finish()
        let r1 = h.wait()
        #expect(h.isSuspended(r1))
        h.sendOrPark([3])
        #expect(h.woken == [r1])
        h.sendOrPark([4, 5])
        h.finish()
        #expect(h.phase == "finished")
        // Finished, but not drained: the items come first.
        #expect(h.receive(limit: 2) == .items(first: 2, [3, 4]))
        #expect(h.receive(limit: 2) == .items(first: 4, [5]))
        #expect(h.receive(limit: 2) == .end)
        #expect(h.receive(limit: 2) == .end, "the end is sticky")
    }

    @Test func lastFinishWakesEveryWaitingReceiver() {
        let h = ChannelHarness(capacity: 1, producers: 2)
        let receivers = (0..<3).map { _ in
            #expect(h.receive(limit: 1) == .mustWait)
            return h.wait()
        }
        h.finish()
        #expect(h.woken.isEmpty)
        h.finish()
        #expect(Set(h.woken) == Set(receivers))
        for _ in receivers { #expect(h.receive(limit: 1) == .end) }
    }

    @Test func finishWhileAnotherProducerIsParkedKeepsItsItems() {
        let h = ChannelHarness(capacity: 1, producers: 2)
        let a = h.sendOrPark([1, 2, 3])!
        h.finish()
        #expect(h.phase == "open")
        #expect(h.receive(limit: 5) == .items(first: 0, [1, 2, 3]))
        #expect(h.woken == [a])
        h.finish()
        #expect(h.receive(limit: 5) == .end)
    }

    @Test func extraFinishIsIgnored() {
        let h = ChannelHarness(capacity: 1, producers: 1)
        h.finish()
        h.finish()
        #expect(h.woken.isEmpty)
        #expect(h.receive(limit: 1) == .end)
    }

    // MARK: cancel

    @Test func cancelReturnsEveryParkedSenderOnceAndDropsItems() {
        let h = ChannelHarness(capacity: 1)
        h.sendOrPark([1])
        let b = h.sendOrPark([2, 3])!
        let c = h.sendOrPark([4])!
        let (receivers, senders) = h.cancel()
        #expect(receivers.isEmpty)
        #expect(senders == [b, c])
        #expect(h.machine.buffered == 0)
        #expect(h.suspended.isEmpty)
        let again = h.cancel()
        #expect(again.receivers.isEmpty && again.senders.isEmpty)
    }

    @Test func cancelReturnsEveryWaitingReceiverOnce() {
        let h = ChannelHarness(capacity: 2, producers: 2)
        let receivers = (0..<3).map { _ in h.wait() }
        let (woken, senders) = h.cancel()
        #expect(woken == receivers)
        #expect(senders.isEmpty)
        #expect(h.suspended.isEmpty)
        let again = h.cancel()
        #expect(again.receivers.isEmpty && again.senders.isEmpty, "cancel is idempotent")
    }

    @Test func afterCancelEverythingReportsCancelled() {
        let h = ChannelHarness(capacity: 2)
        h.sendOrPark([1, 2])
        _ = h.cancel()
        #expect(h.send([3]) == .cancelled)
        #expect(h.receive(limit: 1) == .cancelled)
        let r = h.wait()
        #expect(h.woken == [r], "a receiver arriving after cancel is resumed at once")
        h.finish()
        #expect(h.woken.isEmpty)
        #expect(h.phase == "cancelled")
    }

    @Test func cancelBetweenSendAndParkReturnsTheSender() {
        let h = ChannelHarness(capacity: 1)
        #expect(h.send([1, 2]) == .mustPark(rest: [2]))
        _ = h.cancel()
        let sender = h.park([2])
        #expect(h.woken == [sender])
        #expect(h.machine.parkedSenders == 0)
    }

    @Test func cancelAfterFinishStillWakesReceiversAndDropsItems() {
        let h = ChannelHarness(capacity: 4)
        h.sendOrPark([1, 2])
        h.finish()
        _ = h.cancel()
        #expect(h.receive(limit: 4) == .cancelled)
        #expect(h.machine.buffered == 0)
    }

    // MARK: wait

    @Test func waitReturnsAtOnceWhenItemsArrivedInBetween() {
        let h = ChannelHarness(capacity: 2)
        #expect(h.receive(limit: 1) == .mustWait)
        h.sendOrPark([1])            // no receiver registered yet: nobody to wake
        #expect(h.woken.isEmpty)
        let r = h.wait()
        #expect(h.woken == [r])
        #expect(h.machine.waitingReceivers == 0)
    }

    @Test func waitReturnsAtOnceWhenAParkedBatchArrivedInBetween() {
        let h = ChannelHarness(capacity: 0)
        #expect(h.receive(limit: 1) == .mustWait)
        h.sendOrPark([1])
        let r = h.wait()
        #expect(h.woken == [r])
    }

    @Test func waitReturnsAtOnceAfterFinishOrCancel() {
        let finished = ChannelHarness(capacity: 1)
        #expect(finished.receive(limit: 1) == .mustWait)
        finished.finish()
        let r1 = finished.wait()
        #expect(finished.woken == [r1])

        let cancelled = ChannelHarness(capacity: 1)
        #expect(cancelled.receive(limit: 1) == .mustWait)
        _ = cancelled.cancel()
        let r2 = cancelled.wait()
        #expect(cancelled.woken == [r2])
    }

    @Test func waitSuspendsOnAnEmptyOpenChannel() {
        let h = ChannelHarness(capacity: 1)
        let r = h.wait()
        #expect(h.woken.isEmpty)
        #expect(h.isSuspended(r))
        #expect(h.machine.waitingReceivers == 1)
    }

    // MARK: waking receivers

    @Test func aSendWakesOneReceiverPerItem() {
        let h = ChannelHarness(capacity: 10)
        let r = (0..<3).map { _ in h.wait() }
        h.sendOrPark([1, 2])
        #expect(h.woken == [r[0], r[1]], "two items: the two oldest receivers")
        #expect(h.isSuspended(r[2]))
    }

    @Test func receiversWakeEachOtherInAChain() {
        let h = ChannelHarness(capacity: 0)
        let r = (0..<3).map { _ in h.wait() }
        let sender = h.sendOrPark([1, 2, 3])!
        // A parked batch counts as one offer: one receiver is woken...
        #expect(h.woken == [r[0]])
        // ...and each receiver that leaves items behind passes the word on.
        #expect(h.receive(limit: 1) == .items(first: 0, [1]))
        #expect(h.woken == [r[1]])
        #expect(h.receive(limit: 1) == .items(first: 1, [2]))
        #expect(h.woken == [r[2]])
        #expect(h.receive(limit: 1) == .items(first: 2, [3]))
        #expect(h.woken == [sender], "nothing left: no receiver to wake, only the sender")
    }

    @Test func aReceiverLeavingItemsWakesTheNextWaiter() {
        let h = ChannelHarness(capacity: 4)
        let r1 = h.wait()
        let r2 = h.wait()
        h.sendOrPark([1])
        #expect(h.woken == [r1])
        h.sendOrPark([2, 3])
        #expect(h.woken == [r2])
        let r3 = h.wait()
        #expect(h.woken == [r3], "items are waiting: a new receiver is not parked")
        #expect(h.receive(limit: 1) == .items(first: 0, [1]))
        #expect(h.machine.waitingReceivers == 0)
    }

    // MARK: non-urgent sends and poke

    @Test func aNonUrgentSendWakesReceiversOnlyOnceTheThresholdIsQueued() {
        let h = ChannelHarness(capacity: 8)
        #expect(h.machine.wakeThreshold == 4)
        let r = h.wait()
        #expect(h.send([1, 2], urgent: false) == .done)
        #expect(h.woken.isEmpty, "2 queued, threshold 4: the receiver sleeps on")
        #expect(h.isSuspended(r))
        #expect(h.send([3, 4], urgent: false) == .done)
        #expect(h.woken == [r], "the threshold is reached")
    }

    @Test func pokeWakesReceiversForItemsQueuedByNonUrgentSends() {
        let h = ChannelHarness(capacity: 8)
        let r = (0..<3).map { _ in h.wait() }
        #expect(h.send([1, 2], urgent: false) == .done)
        #expect(h.woken.isEmpty)
        h.poke()
        #expect(h.woken == [r[0], r[1]], "one receiver per queued item, oldest first")
        #expect(h.isSuspended(r[2]))
        h.poke()
        #expect(h.woken == [r[2]], "the items are still queued (the woken have not run): the last one is woken too")
    }

    @Test func pokeWithNothingQueuedOrNobodyWaitingWakesNobody() {
        let h = ChannelHarness(capacity: 8)
        let r = h.wait()
        h.poke()
        #expect(h.woken.isEmpty, "nothing queued")
        #expect(h.isSuspended(r))
        _ = h.cancel()
        h.poke()
        #expect(h.woken.isEmpty, "cancelled")
        let idle = ChannelHarness(capacity: 8)
        #expect(idle.send([1], urgent: false) == .done)
        idle.poke()
        #expect(idle.woken.isEmpty, "nobody waits")
        #expect(idle.receive(limit: 4) == .items(first: 0, [1]))
    }

    // MARK: finish with a failure

    @Test func finishWithAFailureDrainsTheItemsThenThrowsIt() {
        let h = ChannelHarness(capacity: 4)
        h.sendOrPark([1, 2, 3])
        h.finish(failure: StreamFailure(name: "boom"))
        #expect(h.phase == "finished")
        #expect(h.receive(limit: 2) == .items(first: 0, [1, 2]))
        #expect(h.receive(limit: 2) == .items(first: 2, [3]))
        #expect(h.receive(limit: 2) == .failure("boom"), "the failure comes after the last item")
        #expect(h.receive(limit: 2) == .failure("boom"), "and is sticky")
        let late = h.wait()
        #expect(h.woken == [late], "a receiver arriving after the end is resumed at once")
    }

    @Test func finishWithAFailureDrainsParkedSendersFirst() {
        let h = ChannelHarness(capacity: 1, producers: 2)
        let sender = h.sendOrPark([1, 2, 3])!
        h.finish(failure: StreamFailure(name: "boom"))
        #expect(h.phase == "open", "the parked sender's producer has not finished")
        #expect(h.receive(limit: 1) == .items(first: 0, [1]))
        #expect(h.receive(limit: 5) == .items(first: 1, [2, 3]))
        #expect(h.woken == [sender])
        #expect(h.receive(limit: 5) == .mustWait, "a failure ends the stream only after the last producer")
        h.finish()
        #expect(h.receive(limit: 5) == .failure("boom"))
    }

    @Test func finishWithAFailureWakesWaitingReceiversWhoThenThrowIt() {
        let h = ChannelHarness(capacity: 2)
        let receivers = (0..<2).map { _ in h.wait() }
        h.finish(failure: StreamFailure(name: "boom"))
        #expect(h.woken == receivers)
        for _ in receivers { #expect(h.receive(limit: 1) == .failure("boom")) }
    }

    @Test func theFirstFailureIsKeptWhicheverProducerFinishesLast() {
        let h = ChannelHarness(capacity: 2, producers: 3)
        h.finish(failure: StreamFailure(name: "first"))
        h.sendOrPark([1])
        h.finish(failure: StreamFailure(name: "second"))
        #expect(h.phase == "open")
        h.finish()
        #expect(h.receive(limit: 4) == .items(first: 0, [1]))
        #expect(h.receive(limit: 4) == .failure("first"))
    }

    /// `Channel.finish(failure:)` keeps the first failure given even after the last producer
    /// finished: an extra finish is ignored, its failure is not.
    @Test func aFailureGivenAfterTheLastFinishIsStillKept() {
        let h = ChannelHarness(capacity: 2)
        h.finish()
        #expect(h.receive(limit: 1) == .end)
        h.finish(failure: StreamFailure(name: "late"))
        #expect(h.woken.isEmpty)
        #expect(h.receive(limit: 1) == .failure("late"))
        h.finish(failure: StreamFailure(name: "later"))
        #expect(h.receive(limit: 1) == .failure("late"))
    }

    @Test func cancelOverridesTheFailure() {
        let h = ChannelHarness(capacity: 2)
        h.sendOrPark([1])
        h.finish(failure: StreamFailure(name: "boom"))
        _ = h.cancel()
        #expect(h.receive(limit: 1) == .cancelled)
        h.finish(failure: StreamFailure(name: "after"))
        #expect(h.receive(limit: 1) == .cancelled)
    }

    @Test func aSendAfterTheLastFinishIsRefused() {
        let h = ChannelHarness(capacity: 2)
        h.sendOrPark([1])
        h.finish()
        #expect(h.send([2]) == .cancelled, "the items are dropped")
        #expect(h.receive(limit: 4) == .items(first: 0, [1]))
        #expect(h.receive(limit: 4) == .end)
    }

    // MARK: impossible states

    @Test func parkingAnEmptyBatchIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var machine = ChannelStateMachine<Int, Int>(capacity: 1, producers: 1)
            var nothing: [Int] = []
            _ = machine.park(&nothing, continuation: 1)
        }
    }

    @Test func receivingWithNoRoomIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var machine = ChannelStateMachine<Int, Int>(capacity: 1, producers: 1)
            var buffer: [Int] = []
            _ = machine.receive(into: &buffer, limit: 0)
        }
    }

    // MARK: a randomised model check

    /// Random sends (many senders; batches, or one item through `sendOne`), receives with random
    /// limits (some by workers that say they come back, and then do or end instead) and waiting
    /// receivers that are run when woken. Checks FIFO, contiguous sequence numbers, capacity, that a sender is resumed
    /// only once its batch is accepted and never twice, that no receiver stays asleep while items
    /// wait, and that everything ends accepted and resumed.
    @Test(arguments: [0, 1, 3, 8, Int.max])
    func randomisedModel(capacity: Int) {
        var rng = TestRandom(seed: 0x5EED_0000 + UInt64(truncatingIfNeeded: capacity))
        let h = ChannelHarness(capacity: capacity)
        var nextValue = 0
        var received: [Int] = []
        var parked: [Int: Int] = [:]          // sender id -> its last item
        var waiting: [Int: Int] = [:]         // receiver id -> its limit
        var pendingRun: [(id: Int, limit: Int)] = []
        var away = 0                          // receivers that said they come back

        func check(_ h: ChannelHarness, _ received: inout [Int], _ parked: inout [Int: Int],
                   _ waiting: inout [Int: Int], _ pendingRun: inout [(id: Int, limit: Int)]) {
            for id in h.woken {
                if let last = parked.removeValue(forKey: id) {
                    // Accepted: every item up to `last` was taken or sits in the queue.
                    #expect(capacity == Int.max || received.count + capacity > last, "sender \(id) resumed too early")
                } else if let limit = waiting.removeValue(forKey: id) {
                    pendingRun.append((id, limit))
                } else {
                    Issue.record("unknown continuation \(id)")
                }
            }
        }

        /// A receive by a worker that says it comes back (`returning`: and this is its return).
        func take(_ h: ChannelHarness, limit: Int, returning: Bool, _ received: inout [Int]) -> Bool {
            if case .items(let first, let items) = h.receive(limit: limit, returning: returning, comesBack: !returning) {
                #expect(first == received.count)
                received += items
                return true
            }
            return false
        }

        func receive(_ h: ChannelHarness, limit: Int, _ received: inout [Int]) -> Bool {
            if case .items(let first, let items) = h.receive(limit: limit) {
                #expect(first == received.count)
                received += items
                return true
            }
            return false
        }

        for step in 0..<3_000 {
            switch rng.next(upTo: 4) {
            case 0:
                let n = rng.next(upTo: 6)
                if n <= 2 && rng.next(upTo: 2) == 0 {
                    // An async stage's outputs: one at a time (`sendOne`'s wake-up rules).
                    for _ in 0..<max(1, n) {
                        let x = nextValue
                        nextValue += 1
                        if let id = h.sendOneOrPark(x) { parked[id] = x }
                        check(h, &received, &parked, &waiting, &pendingRun)
                    }
                    break
                }
                let batch = Array(nextValue..<nextValue + n)
                nextValue += n
                if let id = h.sendOrPark(batch) { parked[id] = batch.last! }
                check(h, &received, &parked, &waiting, &pendingRun)
            case 1:
                let limit = 1 + rng.next(upTo: 4)
                if rng.next(upTo: 3) == 0 {
                    // A worker of a parallel stage with quick items: it takes what is there and
                    // says it comes back (it is then away until the run step below).
                    if take(h, limit: limit, returning: false, &received) {
                        away += 1
                    } else {
                        let id = h.wait()
                        waiting[id] = limit
                    }
                } else if !receive(h, limit: limit, &received) {
                    let id = h.wait()
                    waiting[id] = limit
                }
                check(h, &received, &parked, &waiting, &pendingRun)
            default:
                // The receivers that said they come back do (taking more, once, without saying
                // it again), or end instead.
                while away > 0 {
                    away -= 1
                    if rng.next(upTo: 4) == 0 {
                        h.leave()
                    } else if !take(h, limit: 1 + rng.next(upTo: 4), returning: true, &received) {
                        let id = h.wait()
                        waiting[id] = 1
                    }
                    check(h, &received, &parked, &waiting, &pendingRun)
                }
                // Run the receivers that were woken, as their tasks would.
                while !pendingRun.isEmpty {
                    let (_, limit) = pendingRun.removeFirst()
                    if !receive(h, limit: limit, &received) {
                        let id = h.wait()
                        waiting[id] = limit
                    }
                    check(h, &received, &parked, &waiting, &pendingRun)
                }
                // No lost wake-up: with every woken receiver run, nobody sleeps next to items.
                guard h.machine.waitingReceivers == 0 || h.machine.buffered == 0 else {
                    Issue.record("step \(step): \(h.machine.waitingReceivers) receivers asleep next to \(h.machine.buffered) items")
                    return
                }
            }
            if capacity != Int.max && h.machine.parkedSenders > 0 && h.machine.buffered < capacity {
                Issue.record("step \(step): a sender is parked while the queue has room")
                return
            }
            guard h.machine.buffered == nextValue - received.count else {
                Issue.record("step \(step): buffered \(h.machine.buffered), expected \(nextValue - received.count)")
                return
            }
        }
        while receive(h, limit: 7, &received) { check(h, &received, &parked, &waiting, &pendingRun) }
        #expect(received == Array(0..<nextValue), "FIFO, every item exactly once")
        #expect(parked.isEmpty, "every sender was resumed")
        _ = h.cancel()
        #expect(h.suspended.isEmpty)
    }

    // MARK: receivers spinning for items

    /// While a receiver yields for items (it is running), a send wakes no parked receiver: the
    /// spinner takes the items when it looks again. Without a spinner the parked one is woken.
    @Test func aSpinningReceiverHoldsOffWakeUps() {
        var m = ChannelStateMachine<Int, Int>(capacity: 16, producers: 1)
        guard case .none = m.wait(continuation: 7) else { Issue.record("receiver 7 did not park"); return }
        m.spinningReceivers += 1
        guard case .queued = m.sendOne(1) else { Issue.record("sendOne woke the parked receiver"); return }
        var batch = [2, 3]
        guard case .resumeReceivers(let woken) = m.send(&batch) else { Issue.record("send did not queue"); return }
        #expect(woken.isEmpty, "send woke the parked receiver")
        var four = [4]
        #expect(m.sendQueued(&four, urgent: true)?.isEmpty == true, "sendQueued woke the parked receiver")
        // The spinner stops and looks: it takes everything, and wakes nobody for an empty queue.
        m.spinningReceivers -= 1
        var out: [Int] = []
        guard case .resumeWaitersAndReturnItems(_, let count, let waiters) = m.receive(into: &out, limit: 16) else {
            Issue.record("the spinner found nothing"); return
        }
        #expect(count == 4 && out == [1, 2, 3, 4] && waiters.isEmpty)
        // No spinner: the next item wakes the parked receiver.
        guard case .resumeReceiver(let c) = m.sendOne(5) else { Issue.record("the parked receiver was not woken"); return }
        #expect(c == 7)
    }

    /// A spinner that takes some of the items leaves the rest to the parked receivers: once it
    /// stopped spinning, its partial take wakes the next one (no item waits with everyone parked).
    @Test func aSpinnerTakingPartPassesTheWordOn() {
        var m = ChannelStateMachine<Int, Int>(capacity: 16, producers: 1)
        _ = m.wait(continuation: 7)
        m.spinningReceivers += 1
        var batch = [1, 2, 3]
        _ = m.send(&batch)
        m.spinningReceivers -= 1
        var out: [Int] = []
        guard let (_, count, wake) = m.receiveQueued(into: &out, limit: 1) else { Issue.record("nothing taken"); return }
        #expect(count == 1 && wake == 7)
    }

    // MARK: receivers woken and on their way

    /// Items sent one at a time to several parked receivers (a parallel stage): the first item
    /// wakes one receiver, and the items after it wait for that one instead of waking a receiver
    /// each. Once it has looked, the next item wakes another.
    @Test func aWokenReceiverOnItsWayHoldsOffFurtherWakeUps() {
        var m = ChannelStateMachine<Int, Int>(capacity: 16, producers: 1)
        for c in [7, 8, 9] { guard case .none = m.wait(continuation: c) else { Issue.record("receiver \(c) did not park"); return } }
        guard case .resumeReceiver(let first) = m.sendOne(1) else { Issue.record("no receiver was woken"); return }
        #expect(first == 7)
        for x in 2...4 {
            guard case .queued = m.sendOne(x) else { Issue.record("item \(x) woke a second receiver"); return }
        }
        // The woken receiver takes one item and passes the word on for the rest.
        var out: [Int] = []
        guard let (_, count, wake) = m.receiveQueued(into: &out, limit: 1) else { Issue.record("nothing taken"); return }
        #expect(count == 1 && out == [1] && wake == 8)
        // Receiver 8 is on its way now: no wake-up until it looks.
        guard case .queued = m.sendOne(5) else { Issue.record("item 5 woke a receiver while 8 was on its way"); return }
        out = []
        guard let (_, taken, next) = m.receiveQueued(into: &out, limit: 16) else { Issue.record("8 found nothing"); return }
        #expect(taken == 4 && out == [2, 3, 4, 5] && next == nil)
        // Nobody is on its way: the next item wakes the last parked receiver.
        guard case .resumeReceiver(let last) = m.sendOne(6) else { Issue.record("receiver 9 was not woken"); return }
        #expect(last == 9)
    }

    /// If items pile up to the wake threshold before the woken receiver comes, the next send
    /// wakes another receiver (a slow-to-arrive receiver does not hold a parallel stage to one
    /// worker).
    @Test func itemsPilingUpWakeAnotherReceiverAnyway() {
        var m = ChannelStateMachine<Int, Int>(capacity: 8, producers: 1)
        _ = m.wait(continuation: 7)
        _ = m.wait(continuation: 8)
        guard case .resumeReceiver(7) = m.sendOne(0) else { Issue.record("receiver 7 was not woken"); return }
        var woken: [Int] = []
        for x in 1..<8 {
            if case .resumeReceiver(let c) = m.sendOne(x) { woken.append(c) }
        }
        #expect(m.wakeThreshold == 4)
        #expect(woken == [8], "a second receiver is woken once \(m.wakeThreshold) items wait")
    }

    /// A receiver that comes back and finds nothing (another took the items) parks again, and
    /// counts as having looked: the next item wakes a receiver.
    @Test func aWokenReceiverThatParksAgainNoLongerHoldsOff() {
        var m = ChannelStateMachine<Int, Int>(capacity: 16, producers: 1)
        _ = m.wait(continuation: 7)
        guard case .resumeReceiver(7) = m.sendOne(1) else { Issue.record("receiver 7 was not woken"); return }
        var out: [Int] = []
        guard case .resumeWaitersAndReturnItems = m.receive(into: &out, limit: 16) else { Issue.record("a running receiver found nothing"); return }
        guard case .none = m.wait(continuation: 7) else { Issue.record("receiver 7 did not park again"); return }
        guard case .resumeReceiver(7) = m.sendOne(2) else { Issue.record("receiver 7 was not woken again"); return }
    }

    // MARK: receivers that come back

    /// A worker with quick items takes them saying it comes back: while it is away, items sent one
    /// at a time wake no parked receiver; once it is back (and takes them), the count is undone
    /// and the next item wakes one.
    @Test func aReturningReceiverHoldsOffWakeUpsForOneItemSends() {
        let h = ChannelHarness(capacity: 16)
        let parked = h.wait()
        h.sendOneOrPark(0)
        #expect(h.woken == [parked], "an item with nobody counted on wakes the parked receiver")
        // The woken one takes the item and says it comes back.
        #expect(h.receive(limit: 4, returning: false, comesBack: true) == .items(first: 0, [0]))
        let other = h.wait()
        for x in 1...3 {
            h.sendOneOrPark(x)
            #expect(h.woken.isEmpty, "item \(x) woke receiver \(other) while one was coming back")
        }
        #expect(h.machine.returningReceivers == 1)
        // It comes back, takes everything, and no longer says it comes back.
        #expect(h.receive(limit: 8, returning: true, comesBack: false) == .items(first: 1, [1, 2, 3]))
        #expect(h.machine.returningReceivers == 0)
        h.sendOneOrPark(4)
        #expect(h.woken == [other])
    }

    /// Items piling up to the wake threshold wake a parked receiver even while one is coming
    /// back (a returning worker that met a slow item does not hold the others back for long).
    @Test func itemsPilingUpWakeAParkedReceiverDespiteAReturningOne() {
        let h = ChannelHarness(capacity: 8)
        h.sendOneOrPark(0)
        #expect(h.receive(limit: 4, returning: false, comesBack: true) == .items(first: 0, [0]))
        let parked = h.wait()
        var wokenAt: Int?
        for x in 1..<8 {
            h.sendOneOrPark(x)
            if h.woken == [parked] { wokenAt = x; break }
        }
        #expect(h.machine.wakeThreshold == 4)
        #expect(wokenAt == 4, "woken by the item that made \(h.machine.wakeThreshold) queued")
    }

    /// A returning receiver passes the word on only for a pile: what is left below the threshold
    /// it takes itself when it comes back.
    @Test func aReturningReceiverPassesTheWordOnOnlyForAPile() {
        let h = ChannelHarness(capacity: 8)
        let parked = h.wait()
        #expect(h.send([0, 1, 2], urgent: false) == .done)
        #expect(h.woken.isEmpty, "3 items are below the threshold of 4")
        #expect(h.receive(limit: 1, returning: false, comesBack: true) == .items(first: 0, [0]))
        #expect(h.woken.isEmpty, "2 items left: the returning receiver takes them")
        #expect(h.send([3, 4, 5, 6], urgent: false) == .done)
        #expect(h.woken == [parked], "a batch at the threshold wakes the parked receiver")
        _ = h.receive(limit: 1, returning: true, comesBack: true)
        #expect(h.woken.isEmpty, "the parked one is already on its way")
    }

    /// A returning receiver that ends instead wakes a parked receiver for what is queued, so no
    /// item waits next to a sleeping receiver; with nothing queued it wakes nobody.
    @Test func aReturningReceiverThatLeavesWakesAParkedOneForWhatIsQueued() {
        let h = ChannelHarness(capacity: 16)
        h.sendOneOrPark(0)
        #expect(h.receive(limit: 1, returning: false, comesBack: true) == .items(first: 0, [0]))
        let parked = h.wait()
        h.sendOneOrPark(1)
        #expect(h.woken.isEmpty)
        h.leave()
        #expect(h.woken == [parked])
        #expect(h.machine.returningReceivers == 0)
        // Nothing queued: leaving wakes nobody.
        #expect(h.receive(limit: 4, returning: false, comesBack: true) == .items(first: 1, [1]))
        _ = h.wait()
        h.leave()
        #expect(h.woken.isEmpty)
    }
}
