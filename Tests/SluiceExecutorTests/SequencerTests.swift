// Tests of the reorder window: its state machine synchronously (with Ints as continuations, each
// returned at most once), then `Sequencer` with real tasks completing chunks out of order.
import Testing
@testable import SluiceExecutor
import SluiceTestSupport

/// Drives a `SequencerStateMachine<Int, Int>` the way `Sequencer` does, handing it fresh
/// continuation ids and checking every continuation it returns: each must have been handed in,
/// and none may come back twice (a double resume crashes a real run; a leak hangs it).
final class SequencerHarness {
    private(set) var machine: SequencerStateMachine<Int, Int>
    private var nextID = 0
    /// Handed to the machine and not returned yet.
    private(set) var suspended: Set<Int> = []
    /// Returned by the machine so far.
    private(set) var resumed: Set<Int> = []
    /// Returned by the most recent transition, in order.
    private(set) var woken: [Int] = []

    init(window: Int) { machine = SequencerStateMachine(window: window) }

    private func newID() -> Int {
        nextID += 1
        suspended.insert(nextID)
        return nextID
    }

    private func record(_ continuations: [Int], _ location: SourceLocation) {
        woken = continuations
        for c in continuations {
            #expect(!resumed.contains(c), "continuation \(c) returned twice", sourceLocation: location)
            #expect(suspended.contains(c), "continuation \(c) never handed in", sourceLocation: location)
            resumed.insert(c)
            suspended.remove(c)
        }
        checkPhaseInvariants(location)
    }

    /// What each phase's documentation promises about the data it holds.
    private func checkPhaseInvariants(_ location: SourceLocation) {
        // Every continuation handed in and not returned is held by the machine, once.
        #expect(machine.windowWaiterCount + machine.turnWaiterCount == suspended.count, sourceLocation: location)
        switch machine.phase {
        case .ordering:
            #expect(machine.cutoff == Int.max, sourceLocation: location)
        case .cut:
            #expect(machine.windowIsOpen, "a cut keeps the window open", sourceLocation: location)
            #expect(machine.windowWaiterCount == 0, "no one waits for an open window", sourceLocation: location)
        case .cancelled:
            #expect(machine.depositCount == 0, "a cancelled sequencer holds no deposit", sourceLocation: location)
            #expect(suspended.isEmpty, "a cancelled sequencer holds no waiter", sourceLocation: location)
        }
    }

    func isSuspended(_ id: Int) -> Bool { suspended.contains(id) }

    /// A worker asks to enter the window (`Sequencer.enterWindow`'s first step).
    func enterWindow() -> SequencerStateMachine<Int, Int>.EnterWindowAction {
        machine.enterWindow()
    }

    func waitForWindow(sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let id = newID()
        record(resumed(machine.waitForWindow(id), id, sourceLocation), sourceLocation)
        return id
    }

    func waitForTurn(start: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let id = newID()
        record(resumed(machine.waitForTurn(start: start, id), id, sourceLocation), sourceLocation)
        return id
    }

    private func resumed(_ action: SequencerStateMachine<Int, Int>.WaitAction, _ id: Int, _ location: SourceLocation) -> [Int] {
        switch action {
        case .resumeWorker(let worker):
            #expect(worker == id, sourceLocation: location)
            return [worker]
        case .none:
            return []
        }
    }

    /// Returns true if the chunk has the turn (its items stay with the caller).
    func complete(start: Int, end: Int, items: [Int], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var held = items
        let turn = machine.complete(start: start, end: end, items: &held) == .sendItemsAndAdvance
        #expect(held == (turn ? items : []), sourceLocation: sourceLocation)
        record([], sourceLocation)
        return turn
    }

    enum Advanced: Equatable {
        case flush(items: [Int], end: Int)
        case released
    }

    func advance(to end: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Advanced {
        switch machine.advance(to: end) {
        case .sendDepositAndAdvance(let items, let next, let windowWaiter):
            record(windowWaiter.map { [$0] } ?? [], sourceLocation)
            return .flush(items: items, end: next)
        case .resumeWaitersAndReturn(let waiters):
            record(waiters, sourceLocation)
            return .released
        }
    }

    /// What the turn holder does after sending its own items: advance and flush until released.
    /// Returns the flushed items in order and every continuation returned on the way.
    func flush(from end: Int, sourceLocation: SourceLocation = #_sourceLocation) -> (items: [Int], woken: [Int]) {
        var out: [Int] = [], all: [Int] = []
        var cursor = end
        while case .flush(let items, let next) = advance(to: cursor, sourceLocation: sourceLocation) {
            all += woken
            out += items
            cursor = next
        }
        all += woken
        return (out, all)
    }

    func cut(at start: Int, sourceLocation: SourceLocation = #_sourceLocation) -> [Int] {
        switch machine.cut(at: start) {
        case .resumeWorkers(let workers):
            #expect(!workers.isEmpty, "resume nobody: say none", sourceLocation: sourceLocation)
            record(workers, sourceLocation)
            return workers
        case .none:
            record([], sourceLocation)
            return []
        }
    }

    func cancel(sourceLocation: SourceLocation = #_sourceLocation) -> [Int] {
        switch machine.cancel() {
        case .resumeWorkers(let workers):
            #expect(!workers.isEmpty, "resume nobody: say none", sourceLocation: sourceLocation)
            record(workers, sourceLocation)
            return workers
        case .none:
            record([], sourceLocation)
            return []
        }
    }
}

/// The workers of an ordered stage around a `SequencerHarness`, one chunk of one item per worker
/// (chunk `c` is `c..<c+1` and its output is `c`), for the randomised test.
final class SequencerModel {
    let h: SequencerHarness
    let chunks: Int
    /// Chunks whose worker holds them and runs (not completed, not suspended, not stopped).
    private(set) var idle: Set<Int>
    private var turnWaiters: [Int: Int] = [:]   // continuation -> chunk
    private var windowWaiters: Set<Int> = []
    /// Chunks that failed: at their turn they send what they made and do not advance.
    private var failed: Set<Int> = []
    /// What went out, in order.
    private(set) var out: [Int] = []
    private(set) var cancelled = false

    init(window: Int, chunks: Int) {
        h = SequencerHarness(window: window)
        self.chunks = chunks
        idle = Set(0..<chunks)
    }

    /// Runs the workers whose continuations came back, as their tasks would.
    private func resume(_ continuations: [Int]) {
        var queue = continuations
        while !queue.isEmpty {
            let id = queue.removeFirst()
            if windowWaiters.remove(id) != nil { continue }
            guard let c = turnWaiters.removeValue(forKey: id) else {
                Issue.record("unknown continuation \(id)")
                continue
            }
            switch h.machine.turnWaitEnded(start: c) {
            case .throwCancellation:
                break   // the chunk is abandoned or the run stopped: its worker leaves
            case .proceed:
                #expect(h.machine.hasTurn(start: c), "chunk \(c) resumed without the turn")
                queue += holdTurn(c)
            }
        }
    }

    /// The worker of chunk `c` has the turn: it sends its output and, unless it failed, advances
    /// and flushes. Returns the continuations that came back.
    private func holdTurn(_ c: Int) -> [Int] {
        out.append(c)
        if failed.contains(c) { return [] }
        let (items, woken) = h.flush(from: c + 1)
        out += items
        return woken
    }

    func complete(_ c: Int) {
        idle.remove(c)
        if h.complete(start: c, end: c + 1, items: [c]) { resume(holdTurn(c)) }
    }

    /// Mid-chunk, the worker's outbox is full: it waits for its turn.
    func waitForTurn(_ c: Int) {
        idle.remove(c)
        let id = h.waitForTurn(start: c)
        turnWaiters[id] = c
        resume(h.woken)
    }

    /// Chunk `c` fails: it cuts the sequence, then waits for its turn to send its prefix.
    func fail(_ c: Int) {
        idle.remove(c)
        failed.insert(c)
        resume(h.cut(at: c))
        let id = h.waitForTurn(start: c)
        turnWaiters[id] = c
        resume(h.woken)
    }

    /// Another worker wants to take input.
    func enterWindow() {
        guard h.enterWindow() == .suspend else { return }
        let id = h.waitForWindow()
        windowWaiters.insert(id)
        resume(h.woken)
    }

    func cancel() {
        cancelled = true
        resume(h.cancel())
    }
}

@Suite(.timeLimit(.minutes(1)))
struct SequencerTests {
    // MARK: state machine

    @Test func theFirstChunkHasTheTurn() {
        let h = SequencerHarness(window: 2)
        #expect(h.machine.hasTurn(start: 0))
        #expect(!h.machine.hasTurn(start: 3))
        #expect(h.complete(start: 0, end: 3, items: [1, 2]))
        #expect(h.machine.depositCount == 0, "the turn holder sends its items itself")
        #expect(h.advance(to: 3) == .released)
        #expect(h.machine.next == 3)
        #expect(h.machine.hasTurn(start: 3))
    }

    @Test func aChunkCompletingOutOfTurnIsDeposited() {
        let h = SequencerHarness(window: 4)
        #expect(!h.complete(start: 2, end: 4, items: [20, 21]))
        #expect(h.machine.depositCount == 1)
        #expect(h.machine.depositedItems == 2)
    }

    @Test func advanceFlushesDepositsInOrderAndStopsAtAGap() {
        let h = SequencerHarness(window: 8)
        #expect(!h.complete(start: 4, end: 5, items: [40]))
        #expect(!h.complete(start: 2, end: 4, items: [20, 30]))
        #expect(!h.complete(start: 6, end: 7, items: [60]))   // 5 is missing: a gap
        #expect(!h.complete(start: 7, end: 9, items: []))     // a chunk whose items were all filtered out
        #expect(h.complete(start: 0, end: 2, items: [0, 10]))
        #expect(h.advance(to: 2) == .flush(items: [20, 30], end: 4))
        #expect(h.advance(to: 4) == .flush(items: [40], end: 5))
        #expect(h.advance(to: 5) == .released)
        #expect(h.machine.next == 5)
        #expect(h.machine.depositCount == 2)
        #expect(h.complete(start: 5, end: 6, items: [50]))
        #expect(h.flush(from: 6).items == [60])
        #expect(h.machine.next == 9)
        #expect(h.machine.depositCount == 0)
    }

    @Test func theWindowClosesWhenFullAndEachFlushLetsOneWaiterIn() {
        let h = SequencerHarness(window: 2)
        #expect(h.machine.windowIsOpen)
        let early = h.waitForWindow()
        #expect(h.woken == [early], "an open window lets the worker in at once")
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        #expect(h.machine.windowIsOpen)
        #expect(!h.complete(start: 2, end: 3, items: [2]))
        #expect(!h.machine.windowIsOpen, "two deposits fill a window of 2")
        let a = h.waitForWindow()
        let b = h.waitForWindow()
        #expect(h.isSuspended(a) && h.isSuspended(b))
        #expect(h.complete(start: 0, end: 1, items: [0]))
        #expect(h.advance(to: 1) == .flush(items: [1], end: 2))
        #expect(h.woken == [a], "one deposit left the window: one waiter in, oldest first")
        #expect(h.advance(to: 2) == .flush(items: [2], end: 3))
        #expect(h.woken == [b])
        #expect(h.advance(to: 3) == .released)
        #expect(h.woken.isEmpty)
        #expect(h.machine.windowIsOpen)
    }

    @Test func aWorkerWaitsForItsTurnUntilThePreviousChunkIsDone() {
        let h = SequencerHarness(window: 4)
        let now = h.waitForTurn(start: 0)
        #expect(h.woken == [now], "chunk 0 has the turn at once")
        let later = h.waitForTurn(start: 5)
        #expect(h.isSuspended(later))
        #expect(h.complete(start: 0, end: 3, items: [0]))
        #expect(h.advance(to: 3) == .released)
        #expect(h.isSuspended(later), "chunk 3..<5 is not done yet")
        #expect(h.complete(start: 3, end: 5, items: [3]))
        #expect(h.advance(to: 5) == .released)
        #expect(h.woken == [later])
    }

    @Test func theTurnReachedThroughAFlushWakesTheWaiter() {
        let h = SequencerHarness(window: 4)
        let waiter = h.waitForTurn(start: 2)
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        #expect(h.complete(start: 0, end: 1, items: [0]))
        let (items, woken) = h.flush(from: 1)
        #expect(items == [1])
        #expect(woken == [waiter])
        #expect(h.machine.hasTurn(start: 2))
    }

    @Test func enterWindowSaysEnterSuspendOrThrow() {
        let h = SequencerHarness(window: 1)
        #expect(h.enterWindow() == .enter)
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        #expect(h.enterWindow() == .suspend, "one deposit fills a window of 1")
        #expect(h.cut(at: 5).isEmpty)
        #expect(h.enterWindow() == .enter, "a cut keeps the window open: workers find their chunks abandoned")
        #expect(h.cancel().isEmpty)
        #expect(h.enterWindow() == .throwCancellation)
    }

    @Test func aWorkerResumedFromTheWindowThrowsOnlyOnceTheRunStopped() {
        let h = SequencerHarness(window: 1)
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        let w = h.waitForWindow()
        #expect(h.isSuspended(w))
        #expect(h.cut(at: 1) == [w])
        #expect(h.machine.windowWaitEnded() == .proceed, "a cut opens the window; it does not stop the worker")
        _ = h.cancel()
        #expect(h.machine.windowWaitEnded() == .throwCancellation)
    }

    @Test func aWorkerResumedFromItsTurnWaitThrowsIfItsChunkIsAbandoned() {
        let h = SequencerHarness(window: 4)
        #expect(h.machine.turnWaitEnded(start: 0) == .proceed)
        #expect(h.cut(at: 2).isEmpty)
        #expect(h.machine.turnWaitEnded(start: 2) == .proceed, "the failing chunk still takes its turn")
        #expect(h.machine.turnWaitEnded(start: 3) == .throwCancellation, "a later chunk is abandoned")
        _ = h.cancel()
        #expect(h.machine.turnWaitEnded(start: 0) == .throwCancellation)
    }

    // MARK: cuts (a failing chunk)

    @Test func aCutAbandonsLaterChunksAndWakesTheirWaitersOnce() {
        let h = SequencerHarness(window: 4)
        #expect(!h.complete(start: 3, end: 4, items: [3]))          // deposited, after the cut
        #expect(!h.complete(start: 1, end: 2, items: [1]))          // deposited, before the cut
        let later = h.waitForTurn(start: 4)
        let failing = h.waitForTurn(start: 2)
        let woken = h.cut(at: 2)
        #expect(woken == [later], "only chunks after the cut are woken")
        #expect(h.machine.isAbandoned(start: 3) && h.machine.isAbandoned(start: 4))
        #expect(!h.machine.isAbandoned(start: 2) && !h.machine.isAbandoned(start: 1))
        #expect(h.machine.depositCount == 1, "the deposit after the cut is dropped")
        #expect(h.isSuspended(failing))
        // Chunk 0 completes in turn: chunk 1's deposit is flushed, then the failing chunk's
        // worker gets the turn; nothing after it is ever flushed.
        #expect(h.complete(start: 0, end: 1, items: [0]))
        let (items, wokenDuringFlush) = h.flush(from: 1)
        #expect(items == [1])
        #expect(wokenDuringFlush == [failing])
        #expect(h.machine.hasTurn(start: 2))
        // A later chunk completing after the cut is dropped, and waits for nothing.
        #expect(!h.complete(start: 5, end: 6, items: [5]))
        let late = h.waitForTurn(start: 6)
        #expect(h.woken == [late])
        #expect(h.suspended.isEmpty)
    }

    @Test func onlyAnEarlierCutMovesTheCutoff() {
        let h = SequencerHarness(window: 2)
        #expect(h.cut(at: 5).isEmpty)
        #expect(h.machine.cutoff == 5)
        #expect(h.cut(at: 7).isEmpty)
        #expect(h.machine.cutoff == 5)
        let waiter = h.waitForTurn(start: 5)
        #expect(h.cut(at: 3) == [waiter], "the chunk that failed later is abandoned too")
        #expect(h.machine.cutoff == 3)
    }

    @Test func aCutOpensTheWindowForWaiters() {
        let h = SequencerHarness(window: 1)
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        let w = h.waitForWindow()
        #expect(h.isSuspended(w))
        #expect(h.cut(at: 1) == [w])
        #expect(h.machine.windowIsOpen)
    }

    /// The turn holder is flushing when a later chunk fails: the flush stops before the abandoned
    /// deposits and the turn passes to the failing chunk, which sends what it made before failing.
    @Test func aCutDuringAFlushStopsItBeforeTheAbandonedChunks() {
        let h = SequencerHarness(window: 8)
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        #expect(!h.complete(start: 3, end: 4, items: [3]))
        #expect(!h.complete(start: 4, end: 5, items: [4]))
        let failing = h.waitForTurn(start: 2)
        #expect(h.complete(start: 0, end: 1, items: [0]))
        #expect(h.advance(to: 1) == .flush(items: [1], end: 2))
        // While the turn holder sends chunk 1's deposit, chunk 2 fails.
        #expect(h.cut(at: 2).isEmpty, "the failing chunk's worker is not abandoned")
        #expect(h.machine.depositCount == 0, "chunks 3 and 4 are dropped")
        #expect(h.advance(to: 2) == .released)
        #expect(h.woken == [failing])
        #expect(h.machine.turnWaitEnded(start: 2) == .proceed)
        #expect(h.machine.hasTurn(start: 2))
        #expect(!h.complete(start: 5, end: 6, items: [5]), "a chunk after the cut is dropped")
        #expect(h.machine.depositCount == 0)
        #expect(h.machine.next == 2, "nothing after the failing chunk advances the turn")
    }

    /// After a cut, chunks before it complete as usual (deposited, flushed in turn) and chunks
    /// after it are dropped; the turn ends at the failing chunk.
    @Test func completeAfterACutDepositsEarlierChunksAndDropsLaterOnes() {
        let h = SequencerHarness(window: 4)
        #expect(h.cut(at: 3).isEmpty)
        #expect(!h.complete(start: 1, end: 2, items: [10]), "before the cut: deposited")
        #expect(!h.complete(start: 4, end: 5, items: [40]), "after the cut: dropped")
        #expect(h.machine.depositCount == 1)
        #expect(h.complete(start: 0, end: 1, items: [0]))
        #expect(h.flush(from: 1).items == [10])
        #expect(h.complete(start: 2, end: 3, items: [20]))
        #expect(h.advance(to: 3) == .released)
        #expect(h.machine.hasTurn(start: 3), "the failing chunk gets the turn for its prefix")
        #expect(!h.machine.hasTurn(start: 4))
    }

    /// A failure that is not about one chunk (or one at a chunk before the turn) cuts before the
    /// turn holder: every later chunk is abandoned, the turn is nobody's.
    @Test func aCutBeforeTheTurnAbandonsEveryLaterChunk() {
        let h = SequencerHarness(window: 1)
        #expect(h.complete(start: 0, end: 1, items: [0]))
        #expect(h.advance(to: 1) == .released)
        #expect(!h.complete(start: 2, end: 3, items: [2]))
        let window = h.waitForWindow()
        let turn = h.waitForTurn(start: 3)
        #expect(Set(h.cut(at: Int.min)) == [window, turn])
        #expect(h.machine.depositCount == 0)
        #expect(!h.machine.hasTurn(start: 1))
        #expect(h.machine.isAbandoned(start: 1))
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        #expect(h.machine.turnWaitEnded(start: 3) == .throwCancellation)
        let late = h.waitForTurn(start: 4)
        #expect(h.woken == [late], "an abandoned chunk waits for nothing")
    }

    @Test func cancelKeepsTheCutoffAndIgnoresLaterCuts() {
        let h = SequencerHarness(window: 2)
        #expect(h.cut(at: 4).isEmpty)
        _ = h.cancel()
        #expect(h.machine.cutoff == 4)
        #expect(h.machine.isAbandoned(start: 5) && !h.machine.isAbandoned(start: 4))
        #expect(h.cut(at: 2).isEmpty)
        #expect(h.machine.cutoff == 4, "a cut after cancel is ignored")
    }

    @Test func afterCancelCompleteDropsAndAdvanceReleasesNothing() {
        let h = SequencerHarness(window: 2)
        #expect(!h.complete(start: 2, end: 3, items: [2]))
        #expect(h.cancel().isEmpty)
        #expect(!h.complete(start: 1, end: 2, items: [1]), "dropped")
        #expect(!h.complete(start: 0, end: 1, items: [0]), "even the chunk at the turn is dropped")
        #expect(h.advance(to: 1) == .released, "a turn holder that was sending finds nothing to flush")
        #expect(h.woken.isEmpty)
        #expect(h.machine.depositCount == 0)
    }

    // MARK: impossible states

    @Test func twoWorkersWaitingForOneTurnIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var machine = SequencerStateMachine<Int, Int>(window: 2)
            _ = machine.waitForTurn(start: 3, 1)
            _ = machine.waitForTurn(start: 3, 2)
        }
    }

    @Test func completingAChunkTwiceIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var machine = SequencerStateMachine<Int, Int>(window: 2)
            var items = [3]
            _ = machine.complete(start: 3, end: 4, items: &items)
            items = [3]
            _ = machine.complete(start: 3, end: 4, items: &items)
        }
    }

    @Test func completingAChunkTheTurnHasPassedIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var machine = SequencerStateMachine<Int, Int>(window: 2)
            var items = [0]
            _ = machine.complete(start: 0, end: 2, items: &items)
            _ = machine.advance(to: 2)
            var late = [1]
            _ = machine.complete(start: 1, end: 2, items: &late)
        }
    }

    @Test func waitingForATurnThatHasPassedIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            var machine = SequencerStateMachine<Int, Int>(window: 2)
            _ = machine.advance(to: 2)
            _ = machine.waitForTurn(start: 1, 1)
        }
    }

    @Test func cancelReturnsEveryWaiterOnce() {
        let h = SequencerHarness(window: 1)
        #expect(!h.complete(start: 1, end: 2, items: [1]))
        let windowWaiters = [h.waitForWindow(), h.waitForWindow()]
        let turnWaiters = [h.waitForTurn(start: 2), h.waitForTurn(start: 3)]
        let all = h.cancel()
        #expect(Set(all) == Set(windowWaiters + turnWaiters))
        #expect(all.count == 4)
        #expect(h.suspended.isEmpty)
        #expect(h.machine.isCancelled)
        #expect(h.machine.depositCount == 0, "deposits are dropped")
        #expect(h.cancel().isEmpty, "cancel is idempotent")
        // After cancel nobody waits.
        let w = h.waitForWindow()
        #expect(h.woken == [w])
        let t = h.waitForTurn(start: 9)
        #expect(h.woken == [t])
    }

    /// With fewer window slots than workers, a worker can wait for the window while no deposit is
    /// left to flush: the window reopens when a turn passes on without a flush, and that must wake
    /// window waiters too (it once did not: worker A waited forever).
    @Test func aWaiterIsLetInWhenTheWindowReopensWithoutAFlush() {
        // Window 1; workers A, B, C hold chunks 0, 1, 2.
        let h = SequencerHarness(window: 1)
        #expect(!h.complete(start: 2, end: 3, items: [2]), "C completes out of turn: the window is full")
        let c = h.waitForWindow()
        #expect(h.complete(start: 0, end: 1, items: [0]), "A has the turn")
        #expect(h.advance(to: 1) == .released, "B still holds chunk 1")
        let a = h.waitForWindow()
        #expect(h.isSuspended(a), "chunk 2 still waits: the window is full")
        #expect(h.complete(start: 1, end: 2, items: [1]), "B has the turn")
        #expect(h.advance(to: 2) == .flush(items: [2], end: 3))
        #expect(h.woken == [c])
        #expect(h.advance(to: 3) == .released)
        #expect(h.machine.windowIsOpen, "no deposit is left")
        #expect(!h.isSuspended(a), "A must be let in once the window is open again")
    }

    /// Random completion orders: whatever the order, the turn holders' sends plus their flushes
    /// give the items in chunk order, and every waiter is resumed exactly once.
    @Test func randomCompletionOrdersAlwaysReleaseInOrder() {
        var rng = TestRandom(seed: 0xC0FFEE)
        for round in 0..<200 {
            let chunks = 1 + rng.next(upTo: 20)
            let h = SequencerHarness(window: 1 + rng.next(upTo: 4))
            // Chunk i covers sequence numbers 2i..<2i+2; its items are 0–2 copies of i.
            let items = (0..<chunks).map { i in Array(repeating: i, count: rng.next(upTo: 3)) }
            var order = Array(0..<chunks)
            order.shuffle(using: &rng)
            var out: [Int] = []
            for i in order {
                if h.complete(start: 2 * i, end: 2 * i + 2, items: items[i]) {
                    out += items[i]
                    out += h.flush(from: 2 * i + 2).items
                }
            }
            #expect(out == items.flatMap { $0 }, "round \(round), order \(order)")
            #expect(h.machine.next == 2 * chunks)
            #expect(h.machine.depositCount == 0)
        }
    }

    /// Random workers around the machine: chunks complete out of order, wait for their turn
    /// mid-chunk, fail (cutting the sequence) or the run is cancelled, while other workers wait for
    /// the window. Whatever happens, what goes out is a prefix of the chunks in order (up to and
    /// including a failing chunk's prefix), and every continuation comes back exactly once.
    @Test(arguments: [1, 2, 4])
    func randomisedModelWithWaitersAndCuts(window: Int) {
        for round in 0..<300 {
            var rng = TestRandom(seed: 0x5E9_0000 &+ UInt64(window) << 12 &+ UInt64(round))
            let model = SequencerModel(window: window, chunks: 1 + rng.next(upTo: 12))
            for _ in 0..<40 where !model.idle.isEmpty || !model.cancelled {
                let idle = model.idle.sorted()
                let pick = idle.isEmpty ? nil : idle[rng.next(upTo: idle.count)]
                switch rng.next(upTo: 20) {
                case 0..<10: if let pick { model.complete(pick) }
                case 10..<15: if let pick { model.waitForTurn(pick) }
                case 15..<18: model.enterWindow()
                case 18: if let pick { model.fail(pick) }
                default: if rng.next(upTo: 4) == 0 { model.cancel() }
                }
            }
            // The remaining workers complete their chunks.
            while let c = model.idle.min() { model.complete(c) }
            let h = model.h
            let cutoff = h.machine.cutoff
            let expected = model.cancelled ? model.out.count : cutoff == Int.max ? model.chunks : cutoff + 1
            #expect(model.out == Array(0..<expected), "round \(round): \(model.out)")
            #expect(h.suspended.isEmpty, "round \(round): every waiter was resumed")
            if !model.cancelled && h.machine.cutoff == Int.max {
                #expect(h.machine.next == model.chunks)
                #expect(h.machine.depositCount == 0)
            }
        }
    }

    // MARK: Sequencer

    @Test func chunksCompletedOutOfOrderAreSentInChunkOrder() async throws {
        let sequencer = Sequencer<Int>(window: 8)
        let output = Channel<Int>(capacity: 100)
        let chunks: [[Int]] = [[0, 1], [2], [], [3, 4, 5], [6], [7, 8]]
        let order = [3, 1, 5, 0, 4, 2]
        let gates = chunks.map { _ in Gate() }
        let completed = Counter()
        try await withDeadline(seconds: 20) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, chunk) in chunks.enumerated() {
                    group.addTask {
                        try await gates[i].wait()
                        var items = chunk
                        try await sequencer.complete(start: i, end: i + 1, items: &items, hasTurn: false, output: output)
                        completed.increment()
                    }
                }
                for (k, i) in order.enumerated() {
                    gates[i].open()
                    await completed.wait(atLeast: k + 1)
                    switch i {
                    case 3, 1, 5: #expect(output.buffered == 0, "chunk 0 is not done: nothing may leave")
                    case 0: #expect(output.buffered == 3, "chunk 0 sends [0, 1] and flushes chunk 1's [2]")
                    case 4: #expect(output.buffered == 3, "chunk 2 is still missing")
                    default: #expect(output.buffered == 9)
                    }
                }
                try await group.waitForAll()
            }
        }
        output.finish()
        var received: [Int] = []
        while try await output.receive(into: &received, limit: 100) != nil {}
        #expect(received == chunks.flatMap { $0 })
    }

    /// Emulates an ordered multi-worker stage: workers enter the window, take the next chunk,
    /// sometimes flush mid-chunk after waiting for their turn, and complete; a consumer reads a
    /// small or rendezvous output. The output is in chunk order. (The planner makes the window
    /// as large as the worker count; see `aWaiterIsLetInWhenTheWindowReopensWithoutAFlush`.)
    @Test(arguments: [(workers: 2, window: 2, capacity: 0), (4, 4, 1), (4, 4, 0), (3, 6, 1), (8, 8, 2)])
    func concurrentWorkersProduceChunkOrder(workers: Int, window: Int, capacity: Int) async throws {
        let chunks = 300
        let sequencer = Sequencer<Int>(window: window)
        let output = Channel<Int>(capacity: capacity, producers: workers)
        let taken = Counter()
        // Chunk i's outputs: 0–3 items, 10i, 10i+1, …
        @Sendable func items(_ i: Int) -> [Int] { (0..<(i * 7 % 4)).map { 10 * i + $0 } }
        let received = try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for w in 0..<workers {
                    group.addTask {
                        var rng = TestRandom(seed: UInt64(w) &+ UInt64(window) << 8)
                        while true {
                            try await sequencer.enterWindow()
                            let i = taken.increment() - 1
                            guard i < chunks else { break }
                            for _ in 0..<rng.next(upTo: 4) { await Task.yield() }
                            var out = items(i)
                            var hasTurn = false
                            if i % 5 == 0 && out.count > 1 {
                                // The outbox is full mid-chunk: wait for the turn, send part of it.
                                try await sequencer.waitForTurn(start: i)
                                hasTurn = true
                                var part = [out.removeFirst()]
                                try await output.send(&part)
                            }
                            try await sequencer.complete(start: i, end: i + 1, items: &out, hasTurn: hasTurn, output: output)
                        }
                        output.finish()
                        return []
                    }
                }
                group.addTask {
                    var got: [Int] = []
                    while try await output.receive(into: &got, limit: 3) != nil {}
                    return got
                }
                var all: [Int] = []
                for try await part in group { all += part }
                return all
            }
        }
        #expect(received == (0..<chunks).flatMap(items))
    }

    @Test func enterWindowWaitsWhileTheWindowIsFull() async throws {
        let executor = ManualExecutor()
        let sequencer = Sequencer<Int>(window: 1)
        let output = Channel<Int>(capacity: 10)
        var deposit = [1]
        try await sequencer.complete(start: 1, end: 2, items: &deposit, hasTurn: false, output: output)
        let entered = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: executor) {
                if (try? await sequencer.enterWindow()) != nil { entered.increment() }
            }
            executor.runUntilIdle()
            #expect(entered.value == 0, "one deposit fills a window of 1")
            var first = [0]
            try? await sequencer.complete(start: 0, end: 1, items: &first, hasTurn: false, output: output)
            executor.runUntilIdle()
            #expect(entered.value == 1, "the flush emptied the window")
            if entered.value == 0 { sequencer.cancel(); executor.runUntilIdle() }
        }
        #expect(output.buffered == 2)
    }

    @Test func waitForTurnWaitsForThePreviousChunk() async throws {
        let executor = ManualExecutor()
        let sequencer = Sequencer<Int>(window: 2)
        let output = Channel<Int>(capacity: 10)
        let turned = Counter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: executor) {
                if (try? await sequencer.waitForTurn(start: 3)) != nil { turned.increment() }
            }
            executor.runUntilIdle()
            #expect(turned.value == 0)
            var items = [0]
            try? await sequencer.complete(start: 0, end: 3, items: &items, hasTurn: false, output: output)
            executor.runUntilIdle()
            #expect(turned.value == 1)
            if turned.value == 0 { sequencer.cancel(); executor.runUntilIdle() }
        }
    }

    @Test func cancelReleasesEveryWaiterWithCancellationError() async {
        let executor = ManualExecutor()
        let sequencer = Sequencer<Int>(window: 1)
        let output = Channel<Int>(capacity: 10)
        var deposit = [1]
        try? await sequencer.complete(start: 1, end: 2, items: &deposit, hasTurn: false, output: output)
        let done = Counter()
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                do { try await sequencer.enterWindow(); return false } catch { return error is CancellationError }
            }
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                do { try await sequencer.waitForTurn(start: 2); return false } catch { return error is CancellationError }
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            sequencer.cancel()
            executor.runUntilIdle()
            #expect(done.value == 2)
            var results: [Bool] = []
            for await r in group { results.append(r) }
            return results
        }
        #expect(outcomes == [true, true])
        await #expect(throws: CancellationError.self) { try await sequencer.enterWindow() }
    }

    @Test func cancellingTheWaitingTaskReleasesIt() async {
        let executor = ManualExecutor()
        let sequencer = Sequencer<Int>(window: 2)
        let done = Counter()
        let outcome = await withTaskGroup(of: Bool.self) { group in
            group.addTask(executorPreference: executor) {
                defer { done.increment() }
                do { try await sequencer.waitForTurn(start: 4); return false } catch { return error is CancellationError }
            }
            executor.runUntilIdle()
            #expect(done.value == 0)
            group.cancelAll()
            executor.runUntilIdle()
            #expect(done.value == 1)
            if done.value == 0 { sequencer.cancel(); executor.runUntilIdle() }
            return await group.next()!
        }
        #expect(outcome)
    }
}
