// The OS threads behind a `BlockingPool`, and the lock around their state machine. The threads hold
// this object, not the pool, so that releasing the pool can stop and join them.
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SluiceExecutor

/// N threads that run jobs from one queue until stopped. Once stopped, the queue is drained, the
/// threads exit and no job is accepted any more.
///
/// The storage of `PoolStateMachine`: lock, ask the machine, unlock, then do what it said (wake,
/// join, run a job). Only sleeping happens under the lock, as a condition variable requires.
package final class PoolThreads: Sendable {
    private let lock: ConditionLock<PoolStateMachine<UnownedJob, PoolThread>>
    package let name: String
    /// The number of threads `start` spawns.
    private let count: Int

    package init(name: String, threads count: Int) {
        self.name = name
        self.count = count
        lock = ConditionLock(PoolStateMachine(threads: count))
    }

    /// Threads started and not yet exited.
    package var liveThreads: Int { lock.withLock { $0.live } }

    /// Jobs waiting for a thread.
    package var queuedJobs: Int { lock.withLock { $0.queuedJobs } }

    /// True when called on one of these threads.
    package var ownsCurrentThread: Bool {
        let me = PoolThread.current
        return lock.withLock { $0.owns(me) }
    }

    /// Starts the threads, running jobs on `executor`, and returns once all of them run.
    /// Called once, by the pool's initialiser.
    package func start(executor: UnownedTaskExecutor) {
        for _ in 0..<count {
            // Joinable; each thread registers its own handle (`threadStarted`), which `stop` joins.
            spawn { [self] in self.runJobs(executor: executor) }
        }
        lock.withLock(waitingUntil: { $0.allThreadsStarted }) { _ in }
    }

    /// Queues `job`; returns false (and keeps nothing) once stopping.
    package func submit(_ job: UnownedJob) -> Bool {
        switch lock.withLock({ $0.submit(job) }) {
        case .wakeOneThread:
            lock.signal()
            return true
        case .runElsewhere:
            return false
        }
    }

    /// Refuses new jobs, lets the threads drain the queue and exit, and joins them. A thread that
    /// calls this cannot join itself: it is detached instead and exits when its current job returns.
    /// Concurrent callers all return once every other thread has exited.
    package func stop() {
        switch lock.withLock({ $0.stop(caller: .current) }) {
        case .wakeAllAndJoin(let threads):
            lock.broadcast()
            for thread in threads { thread.join() }
        case .wakeAllJoinOthersAndDetach(let others, let caller):
            lock.broadcast()
            caller.detach()
            for thread in others { thread.join() }
        case .waitForExit:
            lock.withLock(waitingUntil: { $0.allThreadsExited }) { _ in }
        case .none:
            break
        }
    }

    /// One thread's loop: run jobs in order until stopped and the queue is empty.
    private func runJobs(executor: UnownedTaskExecutor) {
        nameCurrentThread(name)
        let me = PoolThread.current
        switch lock.withLock({ $0.threadStarted(me) }) {
        case .wakeStarter: lock.broadcast()
        case .none: break
        }
        while true {
            switch lock.withLock(waitingUntil: { !$0.threadMustSleep }, { $0.nextJob() }) {
            case .run(let job):
                job.runSynchronously(on: executor)
            case .exit:
                return
            case .exitAndWakeStopWaiters:
                lock.broadcast()
                return
            }
        }
    }

    /// Starts a joinable OS thread named after the pool.
    private func spawn(_ body: @escaping @Sendable () -> Void) {
        // The closure passes through `pthread_create`'s context pointer, retained once; the new
        // thread takes that reference back.
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<Box<@Sendable () -> Void>>.fromOpaque(context).takeRetainedValue().value()
            return nil
        }, context)
        #else
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<Box<@Sendable () -> Void>>.fromOpaque(context!).takeRetainedValue().value()
            return nil
        }, context)
        #endif
        require(result == 0, "BlockingPool '\(name)' could not start a thread (error \(result))")
    }
}

/// A pool thread's pthread handle, compared with `pthread_equal`.
struct PoolThread: Equatable, @unchecked Sendable {
    // Sendable without checking, proven: a `pthread_t` is an opaque handle that names a thread (an
    // integer on Linux, a pointer on Darwin). Nothing here dereferences it; it is only passed to
    // `pthread_equal`, `pthread_join` and `pthread_detach`, which any thread may call. Joining or
    // detaching a thread twice would be undefined: `PoolStateMachine` hands each thread out for
    // that exactly once (one `stop` gets `wakeAll…`; `PoolStateMachineTests` checks it).
    let handle: pthread_t

    /// The calling thread.
    static var current: PoolThread { PoolThread(handle: pthread_self()) }

    static func == (a: PoolThread, b: PoolThread) -> Bool { pthread_equal(a.handle, b.handle) != 0 }

    func join() { pthread_join(handle, nil) }

    func detach() { pthread_detach(handle) }
}

/// Names the calling thread (at most 15 bytes are kept) for `top -H`, `ps -L` and debuggers.
private func nameCurrentThread(_ name: String) {
    let bytes = Array(name.utf8.prefix(15))
    #if canImport(Darwin)
    _ = pthread_setname_np(String(decoding: bytes, as: UTF8.self))
    #else
    // Glibc's `pthread_setname_np` is not exported to Swift; this is what it does for the calling thread.
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    #endif
}
