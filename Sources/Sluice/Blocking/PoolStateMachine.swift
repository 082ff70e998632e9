// The blocking pool's logic as a pure value: its phases, its job queue and its threads' comings and
// goings. No locks, no threads and no waiting here: `PoolThreads` owns the condition lock and the OS
// threads, asks this machine what to do, and does it.
import SluiceExecutor

/// The state of a pool of threads that run jobs from one queue until stopped.
///
/// `Job` is what a thread runs and `Thread` names a thread (the storage uses `UnownedJob` and a
/// pthread handle; the tests use plain integers). Every event returns what the caller must do.
///
/// The pool's waiters (its idle threads, `start`, and `stop`s that are not joining) share one
/// condition variable. Each waits while a predicate of this machine says so
/// (``threadMustSleep``, ``allThreadsStarted``, ``allThreadsExited``), and the events that can end
/// a wait say whom to wake. Each phase's invariants say who can be asleep in it.
///
/// Lifecycle: `starting` → `accepting` (when the last thread runs) → `draining` (the first `stop`)
/// → `stopped` (when the last thread exits).
package struct PoolStateMachine<Job, Thread: Equatable> {
    package enum Phase: Equatable {
        /// `start` is spawning `expected` threads and waits until each of them runs. No job can be
        /// submitted and no one can stop the pool yet: its initialiser has not returned.
        /// Invariants: no job is queued; `live == threads.count < expected`; asleep: `start`, and
        /// threads that already run (they have no job).
        case starting(expected: Int)
        /// Jobs are accepted and run in order. Invariants: `live == threads.count` (no thread
        /// exits before `stop`); asleep: idle threads only (`start` has returned and `stop` has not
        /// begun), so one signal per queued job wakes a thread that will take it.
        case accepting
        /// `stop` began: jobs are refused, the threads run what is queued, then exit. The first
        /// `stop` was told to join (or, for itself, detach) every thread; no one else ever is.
        /// Invariants: `live >= 1`; asleep: only `stop`s waiting for the last exit (a thread never
        /// sleeps here: with nothing queued, it exits).
        case draining
        /// Every thread has exited. Invariants: `live == 0`, no job is queued, no one is asleep.
        case stopped
    }

    package private(set) var phase: Phase
    private var jobs = FIFO<Job>()
    /// Threads that have started and not exited.
    package private(set) var live = 0
    /// Every thread that started, kept after stopping to recognise them.
    private var threads: [Thread] = []

    /// A pool about to spawn `threads` threads.
    package init(threads: Int) {
        precondition(threads >= 1, "a pool needs at least one thread, got \(threads)")
        phase = .starting(expected: threads)
    }

    /// Jobs waiting for a thread.
    package var queuedJobs: Int { jobs.count }

    /// True when `thread` is one of the pool's threads.
    package func owns(_ thread: Thread) -> Bool { threads.contains(thread) }

    // MARK: start

    package enum ThreadStartedAction: Equatable {
        /// This was the last thread to start: wake `start` (broadcast; idle threads go back to sleep).
        case wakeStarter
        /// Others are still starting: nothing to do.
        case none
    }

    /// A thread `start` spawned runs (before it asks for its first job). The thread registers
    /// itself, so the pool knows every thread by the time `start` returns.
    package mutating func threadStarted(_ thread: Thread) -> ThreadStartedAction {
        guard case .starting(let expected) = phase else {
            preconditionFailure("a thread started after the pool started (phase \(phase))")
        }
        precondition(!threads.contains(thread), "a thread started twice")
        threads.append(thread)
        live += 1
        precondition(live <= expected, "more threads started than the \(expected) spawned")
        guard live == expected else { return .none }
        phase = .accepting
        return .wakeStarter
    }

    /// `start` sleeps until this holds: every thread it spawned runs.
    package var allThreadsStarted: Bool {
        if case .starting = phase { return false }
        return true
    }

    // MARK: jobs

    package enum SubmitAction {
        /// The job is queued: wake one sleeping thread (signal).
        case wakeOneThread
        /// The pool is stopping or stopped: run `job` somewhere else, so its task does not hang.
        case runElsewhere(Job)
    }

    /// A job arrives.
    package mutating func submit(_ job: Job) -> SubmitAction {
        switch phase {
        case .starting:
            preconditionFailure("a job was submitted before the pool started")
        case .accepting:
            jobs.append(job)
            return .wakeOneThread
        case .draining, .stopped:
            return .runElsewhere(job)
        }
    }

    /// A thread that asks for a job sleeps while this holds: nothing is queued and no one has
    /// asked the pool to stop.
    package var threadMustSleep: Bool {
        switch phase {
        case .starting, .accepting: return jobs.isEmpty
        case .draining, .stopped: return false
        }
    }

    package enum NextJobAction {
        /// Run `job`, then ask again.
        case run(Job)
        /// The pool is stopping and nothing is left: this thread is counted out; return from the
        /// thread. Others are still running, so there is no one to wake.
        case exit
        /// As `exit`, and this was the last thread: wake the `stop`s waiting for it (broadcast).
        case exitAndWakeStopWaiters
    }

    /// A thread asks for its next job (only when ``threadMustSleep`` is false: the caller slept
    /// until then).
    package mutating func nextJob() -> NextJobAction {
        precondition(!threadMustSleep, "a thread asked for a job while it must sleep")
        if let job = jobs.popFirst() { return .run(job) }
        switch phase {
        case .starting, .accepting:
            preconditionFailure("no job queued, yet the thread need not sleep (phase \(phase))")
        case .stopped:
            preconditionFailure("a thread asked for a job after every thread exited")
        case .draining:
            live -= 1
            precondition(live >= 0, "more threads exited than started")
            guard live == 0 else { return .exit }
            phase = .stopped
            return .exitAndWakeStopWaiters
        }
    }

    // MARK: stop

    package enum StopAction: Equatable {
        /// This call stops the pool from outside it: wake every thread (broadcast; they run what
        /// is queued, then exit), then join each of `threads`. Once joined, all have exited.
        case wakeAllAndJoin(threads: [Thread])
        /// This call stops the pool from one of its own threads (its job released the pool): wake
        /// every thread, join `others`, detach `caller` (a thread cannot join itself; it exits
        /// when its job returns) and return without waiting for it.
        case wakeAllJoinOthersAndDetach(others: [Thread], caller: Thread)
        /// Another call is stopping the pool: sleep until ``allThreadsExited``.
        case waitForExit
        /// Nothing to do: the pool has stopped, or another call is stopping it and this one runs
        /// on a pool thread, which would wait for itself.
        case none
    }

    /// `stop` is called on `caller` (the calling thread).
    package mutating func stop(caller: Thread) -> StopAction {
        let onPoolThread = threads.contains(caller)
        switch phase {
        case .starting:
            preconditionFailure("the pool was stopped before it started")
        case .accepting:
            phase = .draining
            guard onPoolThread else { return .wakeAllAndJoin(threads: threads) }
            return .wakeAllJoinOthersAndDetach(others: threads.filter { $0 != caller }, caller: caller)
        case .draining:
            return onPoolThread ? .none : .waitForExit
        case .stopped:
            return .none
        }
    }

    /// A `stop` that is not joining sleeps until this holds.
    package var allThreadsExited: Bool { phase == .stopped }
}

extension PoolStateMachine: Sendable where Job: Sendable, Thread: Sendable {}
