// Synchronous tests of the blocking pool's state machine: every transition, with Ints standing in
// for jobs and threads, and a harness that models the shared condition variable and fails the test
// on a job handed out twice or never submitted, a thread joined twice, or a sleeper no one wakes.
import Sluice
import SluiceTestSupport
import Testing

/// Drives a `PoolStateMachine<Int, Int>` the way `PoolThreads` does, and checks what it hands out.
///
/// - Jobs: each submitted job must come out exactly once — taken by a thread (`nextJob`) or
///   handed back to run elsewhere (`submit`) — and never one that was not submitted. A job run
///   twice resumes its task twice; a job lost leaves it suspended forever.
/// - Threads: each is joined or detached exactly once (twice is undefined in pthreads), only after
///   it started, and each exits exactly once.
/// - Sleepers: a party whose predicate says wait is asleep until a signal (one sleeper) or a
///   broadcast (all) wakes it. After every step the harness fails if someone sleeps although what
///   it waits for has happened (a lost wake-up: a hang in a real run), or if a signal could reach
///   anyone but an idle thread.
final class PoolHarness {
    enum Sleeper: Hashable, Comparable {
        case starter
        case thread(Int)
        case stopper(Int)
    }

    private(set) var machine: PoolStateMachine<Int, Int>
    private var nextJob = 0
    /// Every job submitted, in order.
    private(set) var submitted: [Int] = []
    /// Jobs taken by threads, in the order they were taken.
    private(set) var ran: [Int] = []
    /// Jobs handed back by `submit`.
    private(set) var ranElsewhere: [Int] = []
    private(set) var started: [Int] = []
    private(set) var exited: Set<Int> = []
    /// Threads joined or detached, in order.
    private(set) var released: [Int] = []
    /// Threads some `stop` is joining: each must exit before the test ends.
    private(set) var joining: Set<Int> = []
    private(set) var asleep: Set<Sleeper> = []

    init(threads: Int) {
        machine = PoolStateMachine(threads: threads)
    }

    // MARK: the condition variable

    private func signal(_ location: SourceLocation) {
        // Only idle threads may be asleep when a job is queued: otherwise the signal could wake
        // `start` or a `stop` instead, and the job would wait for a thread that never comes.
        for sleeper in asleep {
            if case .thread = sleeper { continue }
            Issue.record("a signal could wake \(sleeper) instead of an idle thread", sourceLocation: location)
        }
        // POSIX wakes at least one of them; which one does not matter.
        if let first = asleep.min() { asleep.remove(first) }
    }

    private func broadcast() { asleep.removeAll() }

    private func goToSleep(_ sleeper: Sleeper, _ location: SourceLocation) {
        #expect(!asleep.contains(sleeper), "\(sleeper) is already asleep", sourceLocation: location)
        asleep.insert(sleeper)
    }

    private func expectAwake(_ sleeper: Sleeper, _ location: SourceLocation) {
        #expect(!asleep.contains(sleeper), "\(sleeper) acted while asleep: no one woke it", sourceLocation: location)
    }

    /// No one sleeps through what it waits for.
    private func checkWakeups(_ location: SourceLocation) {
        if machine.queuedJobs > 0 {
            let awake = started.filter { !exited.contains($0) && !asleep.contains(.thread($0)) }
            #expect(!awake.isEmpty, "jobs are queued and every thread sleeps", sourceLocation: location)
        }
        if machine.allThreadsStarted {
            #expect(!asleep.contains(.starter), "every thread started and `start` still sleeps", sourceLocation: location)
        }
        if machine.phase == .draining || machine.phase == .stopped {
            let sleepingThreads = asleep.filter { if case .thread = $0 { true } else { false } }
            #expect(sleepingThreads.isEmpty, "threads sleep while the pool stops: \(sleepingThreads)", sourceLocation: location)
        }
        if machine.allThreadsExited {
            #expect(asleep.isEmpty, "every thread exited and \(asleep) still sleep", sourceLocation: location)
        }
    }

    // MARK: what comes out

    private func handOut(_ job: Int, _ location: SourceLocation) {
        #expect(submitted.contains(job), "job \(job) handed out but never submitted", sourceLocation: location)
        #expect(!ran.contains(job) && !ranElsewhere.contains(job), "job \(job) handed out twice", sourceLocation: location)
    }

    private func release(_ threads: [Int], _ location: SourceLocation) {
        for t in threads {
            #expect(started.contains(t), "thread \(t) released but never started", sourceLocation: location)
            #expect(!released.contains(t), "thread \(t) joined or detached twice", sourceLocation: location)
            released.append(t)
        }
    }

    // MARK: events, as `PoolThreads` calls them

    /// `start` checks whether every thread runs; false: it went to sleep.
    @discardableResult
    func start(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        expectAwake(.starter, sourceLocation)
        let done = machine.allThreadsStarted
        if !done { goToSleep(.starter, sourceLocation) }
        checkWakeups(sourceLocation)
        return done
    }

    /// Thread `t` runs.
    @discardableResult
    func threadStarts(_ t: Int, sourceLocation: SourceLocation = #_sourceLocation) -> PoolStateMachine<Int, Int>.ThreadStartedAction {
        #expect(!started.contains(t), "thread \(t) started twice", sourceLocation: sourceLocation)
        started.append(t)
        let action = machine.threadStarted(t)
        if action == .wakeStarter { broadcast() }
        checkWakeups(sourceLocation)
        return action
    }

    enum Asked: Equatable {
        /// Nothing to do: the thread sleeps.
        case sleeps
        case runs(Int)
        case exits
        case exitsAndWakes
    }

    /// Thread `t` asks for its next job (after its previous one, or after being woken).
    @discardableResult
    func threadAsks(_ t: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Asked {
        #expect(started.contains(t) && !exited.contains(t), "thread \(t) is not running", sourceLocation: sourceLocation)
        expectAwake(.thread(t), sourceLocation)
        let asked: Asked
        if machine.threadMustSleep {
            goToSleep(.thread(t), sourceLocation)
            asked = .sleeps
        } else {
            switch machine.nextJob() {
            case .run(let job):
                handOut(job, sourceLocation)
                ran.append(job)
                asked = .runs(job)
            case .exit:
                exited.insert(t)
                asked = .exits
            case .exitAndWakeStopWaiters:
                exited.insert(t)
                broadcast()
                asked = .exitsAndWakes
            }
        }
        checkWakeups(sourceLocation)
        return asked
    }

    enum Submitted: Equatable {
        case queued(Int)
        case elsewhere(Int)
    }

    /// A new job arrives.
    @discardableResult
    func submit(sourceLocation: SourceLocation = #_sourceLocation) -> Submitted {
        let job = nextJob
        nextJob += 1
        submitted.append(job)
        let result: Submitted
        switch machine.submit(job) {
        case .wakeOneThread:
            signal(sourceLocation)
            result = .queued(job)
        case .runElsewhere(let back):
            #expect(back == job, "submit handed back job \(back) instead of \(job)", sourceLocation: sourceLocation)
            handOut(back, sourceLocation)
            ranElsewhere.append(back)
            result = .elsewhere(back)
        }
        checkWakeups(sourceLocation)
        return result
    }

    enum Stopped: Equatable {
        /// Woke everyone; joins these.
        case joins([Int])
        /// Woke everyone; joins `others`, detached the caller.
        case joinsOthersAndDetaches(others: [Int])
        /// Waits for every thread to exit (`asleep` holds it if it had to sleep).
        case waits
        case returns
    }

    /// `stop` called on thread `caller` (a pool thread's id, or any other number for a thread
    /// outside the pool).
    @discardableResult
    func stop(on caller: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Stopped {
        expectAwake(.stopper(caller), sourceLocation)
        let stopped: Stopped
        switch machine.stop(caller: caller) {
        case .wakeAllAndJoin(let threads):
            broadcast()
            release(threads, sourceLocation)
            joining.formUnion(threads)
            stopped = .joins(threads)
        case .wakeAllJoinOthersAndDetach(let others, let detached):
            #expect(detached == caller, "stop detached \(detached), not its caller \(caller)", sourceLocation: sourceLocation)
            #expect(!others.contains(caller), "a thread would join itself", sourceLocation: sourceLocation)
            broadcast()
            release(others + [detached], sourceLocation)
            joining.formUnion(others)
            stopped = .joinsOthersAndDetaches(others: others)
        case .waitForExit:
            if !machine.allThreadsExited { goToSleep(.stopper(caller), sourceLocation) }
            stopped = .waits
        case .none:
            stopped = .returns
        }
        checkWakeups(sourceLocation)
        return stopped
    }

    /// A `stop` that waits checks again (after being woken); true: every thread exited.
    @discardableResult
    func stopperChecks(_ caller: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        expectAwake(.stopper(caller), sourceLocation)
        let done = machine.allThreadsExited
        if !done { goToSleep(.stopper(caller), sourceLocation) }
        checkWakeups(sourceLocation)
        return done
    }

    /// The end of a run: stopped, every job out exactly once, every thread exited and released once.
    func expectStopped(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(machine.phase == .stopped, sourceLocation: sourceLocation)
        #expect(machine.live == 0 && machine.queuedJobs == 0, sourceLocation: sourceLocation)
        #expect((ran + ranElsewhere).sorted() == submitted, "a job was lost or duplicated", sourceLocation: sourceLocation)
        #expect(ran.sorted() == ran, "threads took jobs out of order", sourceLocation: sourceLocation)
        #expect(exited == Set(started), sourceLocation: sourceLocation)
        #expect(released.sorted() == started.sorted(), "every thread is joined or detached exactly once", sourceLocation: sourceLocation)
        #expect(joining.isSubset(of: exited), sourceLocation: sourceLocation)
        #expect(asleep.isEmpty, "still asleep: \(asleep)", sourceLocation: sourceLocation)
    }

    /// Starts `threads` threads (0, 1, …) that all go idle, as `PoolThreads.start` leaves them.
    static func running(threads: Int) -> PoolHarness {
        let h = PoolHarness(threads: threads)
        for t in 0..<threads { h.threadStarts(t) }
        for t in 0..<threads { h.threadAsks(t) }
        h.start()
        return h
    }
}

/// An id for a thread outside the pool.
private let outside = 100

@Suite struct PoolStateMachineTests {
    // MARK: start

    @Test func startSleepsUntilTheLastThreadRunsAndThatOneWakesIt() {
        let h = PoolHarness(threads: 3)
        #expect(!h.start())
        #expect(h.threadStarts(0) == .none)
        #expect(h.threadStarts(1) == .none)
        #expect(h.asleep == [.starter])
        #expect(h.machine.phase == .starting(expected: 3))
        #expect(h.threadStarts(2) == .wakeStarter)
        #expect(h.machine.phase == .accepting)
        #expect(h.start())
        #expect(h.machine.live == 3)
    }

    @Test func startReturnsAtOnceWhenEveryThreadAlreadyRuns() {
        let h = PoolHarness(threads: 2)
        h.threadStarts(1)
        #expect(h.threadStarts(0) == .wakeStarter)
        #expect(h.start())
    }

    @Test func aThreadThatRunsBeforeTheOthersSleepsUntilAJobArrives() {
        let h = PoolHarness(threads: 2)
        h.threadStarts(0)
        #expect(h.threadAsks(0) == .sleeps)
        h.threadStarts(1)
        // The last start's broadcast woke it too; with nothing queued it sleeps again.
        #expect(h.threadAsks(0) == .sleeps)
        #expect(h.start())
    }

    @Test func threadsAreRecognisedOnceStarted() {
        let h = PoolHarness.running(threads: 2)
        #expect(h.machine.owns(0) && h.machine.owns(1))
        #expect(!h.machine.owns(outside))
    }

    // MARK: submit and run

    @Test func submitQueuesTheJobAndWakesOneIdleThread() {
        let h = PoolHarness.running(threads: 2)
        #expect(h.asleep == [.thread(0), .thread(1)])
        #expect(h.submit() == .queued(0))
        #expect(h.machine.queuedJobs == 1)
        #expect(h.asleep.count == 1, "one signal, one thread woken")
        let woken = h.asleep.contains(.thread(0)) ? 1 : 0
        #expect(h.threadAsks(woken) == .runs(0))
        #expect(h.machine.queuedJobs == 0)
    }

    @Test func aThreadWithNothingQueuedSleepsWhileThePoolAccepts() {
        let h = PoolHarness.running(threads: 1)
        h.submit()
        #expect(h.threadAsks(0) == .runs(0))
        #expect(h.threadAsks(0) == .sleeps)
        #expect(h.machine.threadMustSleep)
    }

    @Test func jobsRunInTheOrderTheyWereSubmitted() {
        let h = PoolHarness.running(threads: 1)
        for _ in 0..<5 { h.submit() }
        for job in 0..<5 { #expect(h.threadAsks(0) == .runs(job)) }
        #expect(h.threadAsks(0) == .sleeps)
    }

    @Test func aBusyThreadTakesTheNextJobWithoutSleeping() {
        let h = PoolHarness.running(threads: 2)
        h.submit()
        h.submit()
        // Both signals woke a thread; the first one to ask takes both jobs in turn.
        #expect(h.threadAsks(0) == .runs(0))
        #expect(h.threadAsks(0) == .runs(1))
        #expect(h.threadAsks(1) == .sleeps)
    }

    // MARK: stop

    @Test func theFirstStopFromOutsideWakesEveryThreadAndJoinsThemAll() {
        let h = PoolHarness.running(threads: 3)
        #expect(h.stop(on: outside) == .joins([0, 1, 2]))
        #expect(h.machine.phase == .draining)
        #expect(h.asleep.isEmpty)
        #expect(h.threadAsks(0) == .exits)
        #expect(h.threadAsks(1) == .exits)
        #expect(h.threadAsks(2) == .exitsAndWakes)
        h.expectStopped()
    }

    @Test func threadsDrainTheQueueBeforeTheyExit() {
        let h = PoolHarness.running(threads: 2)
        for _ in 0..<3 { h.submit() }
        #expect(h.stop(on: outside) == .joins([0, 1]))
        #expect(h.threadAsks(1) == .runs(0))
        #expect(h.threadAsks(0) == .runs(1))
        #expect(h.threadAsks(1) == .runs(2))
        #expect(h.threadAsks(1) == .exits)
        #expect(h.threadAsks(0) == .exitsAndWakes)
        h.expectStopped()
    }

    @Test func aStopFromAPoolThreadDetachesItselfAndJoinsTheOthers() {
        // The pool's last reference is released inside a job running on thread 0.
        let h = PoolHarness.running(threads: 3)
        h.submit()
        #expect(h.threadAsks(0) == .runs(0))
        #expect(h.stop(on: 0) == .joinsOthersAndDetaches(others: [1, 2]))
        #expect(h.threadAsks(1) == .exits)
        #expect(h.threadAsks(2) == .exits)
        // The detached thread exits once its job returns.
        #expect(h.threadAsks(0) == .exitsAndWakes)
        h.expectStopped()
    }

    @Test func aSecondStopFromOutsideSleepsUntilTheLastThreadExits() {
        let h = PoolHarness.running(threads: 2)
        #expect(h.stop(on: outside) == .joins([0, 1]))
        #expect(h.stop(on: outside + 1) == .waits)
        #expect(h.asleep == [.stopper(outside + 1)])
        #expect(h.threadAsks(0) == .exits)
        #expect(h.asleep == [.stopper(outside + 1)], "a thread that is not the last wakes no one")
        #expect(h.threadAsks(1) == .exitsAndWakes)
        #expect(h.stopperChecks(outside + 1))
        h.expectStopped()
    }

    @Test func aStopFromOutsideWaitsForAThreadThatDetachedItself() {
        let h = PoolHarness.running(threads: 1)
        h.submit()
        #expect(h.threadAsks(0) == .runs(0))
        #expect(h.stop(on: 0) == .joinsOthersAndDetaches(others: []))
        #expect(h.stop(on: outside) == .waits)
        #expect(h.threadAsks(0) == .exitsAndWakes)
        #expect(h.stopperChecks(outside))
        h.expectStopped()
    }

    @Test func aSecondStopOnAPoolThreadReturnsAtOnce() {
        // `shutdown()` from outside, then a queued job releases the pool on a pool thread.
        let h = PoolHarness.running(threads: 2)
        h.submit()
        #expect(h.stop(on: outside) == .joins([0, 1]))
        #expect(h.threadAsks(0) == .runs(0))
        #expect(h.stop(on: 0) == .returns)
        #expect(h.threadAsks(0) == .exits)
        #expect(h.threadAsks(1) == .exitsAndWakes)
        h.expectStopped()
    }

    @Test func aStopAfterEveryThreadExitedDoesNothing() {
        let h = PoolHarness.running(threads: 1)
        h.stop(on: outside)
        h.threadAsks(0)
        #expect(h.stop(on: outside) == .returns)
        #expect(h.stop(on: 0) == .returns)
        h.expectStopped()
    }

    @Test func jobsSubmittedWhileStoppingOrStoppedRunElsewhere() {
        let h = PoolHarness.running(threads: 1)
        h.stop(on: outside)
        #expect(h.submit() == .elsewhere(0))
        #expect(h.threadAsks(0) == .exitsAndWakes)
        #expect(h.submit() == .elsewhere(1))
        #expect(h.machine.queuedJobs == 0)
        h.expectStopped()
    }

    // MARK: impossible states

    @Test func aJobBeforeThePoolStartedIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            var machine = PoolStateMachine<Int, Int>(threads: 1)
            _ = machine.submit(0)
        }
    }

    @Test func askingForAJobInsteadOfSleepingIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            var machine = PoolStateMachine<Int, Int>(threads: 1)
            _ = machine.threadStarted(0)
            _ = machine.nextJob()
        }
    }

    // MARK: every interleaving the harness can reach

    @Test func randomSchedulesHandEveryJobOutOnceAndJoinEveryThreadOnce() {
        for seed in UInt64(0)..<300 {
            var random = TestRandom(seed: seed)
            let threads = 1 + random.next(upTo: 4)
            let h = PoolHarness(threads: threads)
            var notStarted = Array(0..<threads)
            var starterDone = h.start()
            /// Threads running a job (between `.runs` and their next ask).
            var inJob: Set<Int> = []
            /// A pool thread that stopped the pool inside its job: it joins the others first.
            var joinsOthers: Int? = nil
            var poolThreadStopped = false
            var stoppers: [Int] = []
            var waitingStoppers: Set<Int> = []
            var steps = 0

            func ask(_ t: Int) {
                if case .runs = h.threadAsks(t) { inJob.insert(t) } else { inJob.remove(t) }
            }
            func stopFromOutside() {
                let s = outside + stoppers.count
                stoppers.append(s)
                if h.stop(on: s) == .waits { waitingStoppers.insert(s) }
            }

            while true {
                steps += 1
                if let j = joinsOthers, h.started.allSatisfy({ $0 == j || h.exited.contains($0) }) {
                    joinsOthers = nil   // its joins returned; its job goes on
                }
                if starterDone && notStarted.isEmpty && h.machine.phase == .stopped
                    && waitingStoppers.isEmpty && !stoppers.isEmpty { break }
                if steps > 2000 {
                    Issue.record("seed \(seed): the schedule did not end")
                    break
                }
                // The run must end: after a while, stop it.
                if steps > 100 && stoppers.isEmpty && starterDone {
                    stopFromOutside()
                    continue
                }
                var choices: [() -> Void] = []
                if !notStarted.isEmpty {
                    choices.append {
                        h.threadStarts(notStarted.remove(at: random.next(upTo: notStarted.count)))
                    }
                }
                if !starterDone && !h.asleep.contains(.starter) {
                    choices.append { starterDone = h.start() }
                }
                for t in h.started where !h.exited.contains(t) && !h.asleep.contains(.thread(t)) && t != joinsOthers {
                    choices.append { ask(t) }
                }
                for s in waitingStoppers where !h.asleep.contains(.stopper(s)) {
                    choices.append { if h.stopperChecks(s) { waitingStoppers.remove(s) } }
                }
                if starterDone {
                    choices.append { h.submit() }
                    if stoppers.count < 2 { choices.append { stopFromOutside() } }
                    // A job running on a pool thread releases the pool (its deinit stops it).
                    if !poolThreadStopped, let t = inJob.min(), t != joinsOthers {
                        choices.append {
                            poolThreadStopped = true
                            if case .joinsOthersAndDetaches = h.stop(on: t) { joinsOthers = t }
                        }
                    }
                }
                if choices.isEmpty {
                    Issue.record("seed \(seed): no one can move (asleep: \(h.asleep)): a hang")
                    break
                }
                choices[random.next(upTo: choices.count)]()
            }
            h.expectStopped()
        }
    }
}
