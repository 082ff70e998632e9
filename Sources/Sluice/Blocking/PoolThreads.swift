// The OS threads behind a `BlockingPool` and their job queue. The threads hold this object, not the
// pool, so that releasing the pool can stop and join them.
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
package final class PoolThreads: Sendable {
    struct State {
        var jobs = FIFO<UnownedJob>()
        /// False once `stop` began: new jobs are refused.
        var accepting = true
        /// Threads started and not yet exited.
        var live = 0
        /// Every thread started (kept after stopping, to recognise them).
        var threads: [pthread_t] = []
        /// Set by the first `stop`: only that caller joins.
        var joinClaimed = false
    }

    private let lock = ConditionLock(State())
    package let name: String

    package init(name: String) {
        self.name = name
    }

    /// Threads started and not yet exited.
    package var liveThreads: Int { lock.withLock { $0.live } }

    /// Jobs waiting for a thread.
    package var queuedJobs: Int { lock.withLock { $0.jobs.count } }

    /// True when called on one of these threads.
    package var ownsCurrentThread: Bool {
        let me = pthread_self()
        return lock.withLock { s in s.threads.contains { pthread_equal($0, me) != 0 } }
    }

    /// Starts `count` threads running jobs on `executor`, and returns once all of them run.
    /// Called once, by the pool's initialiser.
    package func start(count: Int, executor: UnownedTaskExecutor) {
        for _ in 0..<count {
            let thread = spawn { [self] in self.runJobs(executor: executor) }
            lock.withLock { $0.threads.append(thread) }
        }
        lock.withLock(waitingUntil: { $0.live == count }) { _ in }
    }

    /// Queues `job`; returns false (and keeps nothing) once stopping.
    package func submit(_ job: UnownedJob) -> Bool {
        let accepted = lock.withLock { s -> Bool in
            guard s.accepting else { return false }
            s.jobs.append(job)
            return true
        }
        // While the pool accepts jobs, only idle threads wait on the condition (`start` and `stop`
        // wait on it only before and after), so one signal wakes a thread that will take this job.
        if accepted { lock.signal() }
        return accepted
    }

    /// Refuses new jobs, lets the threads drain the queue and exit, and joins them. A thread that
    /// calls this cannot join itself: it is detached instead and exits when its current job returns.
    /// Concurrent callers all return once every other thread has exited.
    package func stop() {
        let me = pthread_self()
        let onPoolThread = ownsCurrentThread
        let toJoin = lock.withLock { s -> [pthread_t] in
            s.accepting = false
            if s.joinClaimed { return [] }
            s.joinClaimed = true
            return s.threads
        }
        lock.broadcast()
        for thread in toJoin {
            if pthread_equal(thread, me) != 0 {
                pthread_detach(thread)
            } else {
                pthread_join(thread, nil)
            }
        }
        if !onPoolThread {
            // Another caller may still be joining: wait until every thread has exited.
            lock.withLock(waitingUntil: { $0.live == 0 }) { _ in }
        }
    }

    /// One thread's loop: run jobs in order until stopped and the queue is empty.
    private func runJobs(executor: UnownedTaskExecutor) {
        nameCurrentThread(name)
        lock.withLock { $0.live += 1 }
        lock.broadcast()
        while let job = lock.withLock(waitingUntil: { !$0.jobs.isEmpty || !$0.accepting }, { $0.jobs.popFirst() }) {
            job.runSynchronously(on: executor)
        }
        lock.withLock { $0.live -= 1 }
        lock.broadcast()
    }

    /// Starts a joinable OS thread named after the pool.
    private func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "BlockingPool '\(name)' could not start a thread (error \(result))")
        return thread!
        #else
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(result == 0, "BlockingPool '\(name)' could not start a thread (error \(result))")
        return thread
        #endif
    }
}

/// The closure a new thread runs, boxed so it can pass through `pthread_create`'s context pointer.
private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
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
