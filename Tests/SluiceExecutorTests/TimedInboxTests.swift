// The hand-over between a timed stage's reader, timer and worker (`TimedInbox`): each event wakes
// the task waiting for it, once; drop policies count exactly what they drop; stopping and closing
// release every waiter.
import Testing
@testable import SluiceExecutor
import SluiceTestSupport

/// What `take` returned, without the payload.
private func name(_ event: TimedInbox<Int>.Event) -> String {
    switch event {
    case .items: "items"
    case .wake: "wake"
    case .end(let failure): failure == nil ? "end" : "failed"
    case .stopped: "stopped"
    }
}

private struct Broken: Error {}

@Suite struct TimedInboxTests {
    @Test func itemsComeBeforeTheEndAndAFailureAfterThem() async {
        let inbox = TimedInbox<Int>(capacity: 8, overflow: .wait, onDrop: nil, countDrops: nil)
        var batch = [1, 2, 3]
        #expect(await inbox.put(&batch))
        #expect(batch.isEmpty)
        inbox.end(Broken())
        var taken: [Int] = []
        #expect(name(await inbox.take(into: &taken, limit: 2)) == "items")
        #expect(name(await inbox.take(into: &taken, limit: 2)) == "items")
        #expect(taken == [1, 2, 3])
        #expect(name(await inbox.take(into: &taken, limit: 2)) == "failed")
    }

    @Test func aWaitingWorkerIsWokenByAnItemTheTimerOrAStop() async {
        let inbox = TimedInbox<Int>(capacity: 8, overflow: .wait, onDrop: nil, countDrops: nil)
        let woken = Task { () -> String in
            var taken: [Int] = []
            return name(await inbox.take(into: &taken, limit: 8))
        }
        await yieldRepeatedly(200)   // let it wait (it would also be correct to find the wake)
        inbox.wake()
        #expect(await woken.value == "wake")
        let stopped = Task { () -> String in
            var taken: [Int] = []
            return name(await inbox.take(into: &taken, limit: 8))
        }
        inbox.stop()
        #expect(await stopped.value == "stopped")
    }

    @Test func aFullBufferMakesTheReaderWaitForRoom() async {
        let inbox = TimedInbox<Int>(capacity: 2, overflow: .wait, onDrop: nil, countDrops: nil)
        let putDone = Counter()
        let reader = Task {
            var batch = [1, 2, 3, 4, 5]
            let ok = await inbox.put(&batch)
            putDone.increment()
            return ok
        }
        await yieldRepeatedly(200)
        #expect(putDone.value == 0, "2 of 5 items fit: the reader waits for room, nothing is dropped")
        var taken: [Int] = []
        while taken.count < 5 { _ = await inbox.take(into: &taken, limit: 1) }
        #expect(await reader.value)
        #expect(taken == [1, 2, 3, 4, 5])
    }

    @Test func closingReleasesAWaitingReaderAndTheTimer() async {
        let inbox = TimedInbox<Int>(capacity: 1, overflow: .wait, onDrop: nil, countDrops: nil)
        let reader = Task {
            var batch = [1, 2, 3]
            return await inbox.put(&batch)
        }
        let timer = Task { await inbox.nextDeadline() }
        await yieldRepeatedly(200)
        inbox.close()
        #expect(await reader.value == false)
        #expect(await timer.value == nil)
    }

    @Test func theTimerSleepsToEachNewDeadlineOnce() async {
        let inbox = TimedInbox<Int>(capacity: 1, overflow: .wait, onDrop: nil, countDrops: nil)
        inbox.arm(.seconds(1))
        #expect(await inbox.nextDeadline() == .seconds(1))
        // The same deadline again is not slept to twice; a later one is.
        let next = Task { await inbox.nextDeadline() }
        inbox.arm(.seconds(1))
        inbox.arm(.seconds(3))
        #expect(await next.value == .seconds(3))
        inbox.close()
    }

    @Test(arguments: [Overflow.dropOldest, .dropNewest])
    func aDroppingBufferCountsAndReportsEachDrop(overflow: Overflow) async {
        let counted = Counter()
        let reported = Recorder<Int>()
        let inbox = TimedInbox<Int>(capacity: 3, overflow: overflow,
                                    onDrop: { reported.record($0) }, countDrops: { counted.increment(by: $0) })
        var batch = Array(0..<10)
        #expect(await inbox.put(&batch))
        var taken: [Int] = []
        guard case .items = await inbox.take(into: &taken, limit: 10) else {
            Issue.record("no items")
            return
        }
        #expect(taken == (overflow == .dropOldest ? [7, 8, 9] : [0, 1, 2]))
        #expect(counted.value == 7)
        #expect(reported.all == (overflow == .dropOldest ? Array(0..<7) : Array(3..<10)))
    }
}
