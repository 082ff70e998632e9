// `BlockingPool`: dedicated threads for blocking calls, usable as a Swift `TaskExecutor` so that a
// stage's workers run there instead of on the cooperative pool.
import SluiceExecutor

/// A fixed set of dedicated OS threads for work that blocks a thread: file and socket I/O through
/// blocking APIs, C libraries, `sleep`, waiting on a lock or a semaphore.
///
/// Swift's cooperative pool has one thread per core. A blocking call made there takes a core away
/// from every task in the process, and enough of them stop everything. A stage given a pool with
/// ``FlowComponent/blocking(on:)`` runs its workers on these threads instead (through Swift's task
/// executor preference), and the rest of the process keeps running.
///
/// ```swift
/// let pool = BlockingPool(threads: 8)
/// defer { pool.shutdown() }
///
/// let sizes = try await (Pipeline(paths)
///     | op.map { (path: String) in try readWholeFile(path) }.workers(8).blocking(on: pool)
///     | op.map(\.count)).collect()
/// ```
///
/// - At most `min(threads, sum of workers of the running stages using the pool)` blocking calls
///   are in flight at once: a worker holds a thread only while it runs; while it waits for input
///   or for room downstream, it is suspended and the thread serves another worker.
/// - The same pool may be passed to several stages and several pipelines: they share its threads.
/// - ``shutdown()`` (or releasing the last reference) stops it deterministically: the threads
///   finish the jobs already queued, exit and are joined before it returns.
public final class BlockingPool: TaskExecutor {
    /// The number of threads the pool was created with.
    ///
    /// ```swift
    /// BlockingPool(threads: 8).threads   // 8
    /// ```
    public let threads: Int

    /// The pool's name; its threads carry it (truncated to 15 bytes) for `top -H` and debuggers.
    ///
    /// ```swift
    /// BlockingPool(threads: 4, name: "disk-io").name   // "disk-io"
    /// ```
    public var name: String { core.name }

    /// The most threads a pool may have (see ``init(threads:name:)``).
    static let maxThreads = 4_096

    /// The threads and the job queue; shared with the threads themselves.
    package let core: PoolThreads

    /// Starts `threads` dedicated threads.
    ///
    /// ```swift
    /// let pool = BlockingPool(threads: 16, name: "db")
    /// ```
    ///
    /// - Parameters:
    ///   - threads: The number of threads: `1...4096`.
    ///   - name: The threads' name, for `top -H` and debuggers.
    /// - Precondition: `1 <= threads <= 4096`. Each thread reserves a whole stack (8 MB of address
    ///   space by default on Linux: 32 GB at 4,096 threads), processes are often limited to a few
    ///   thousand threads, and no machine runs more blocking calls at once usefully; a larger value
    ///   would fail part-way through starting the threads.
    public init(threads: Int, name: String = "sluice-blocking") {
        require(threads >= 1, "threads must be >= 1, got \(threads) (BlockingPool '\(name)')")
        require(threads <= Self.maxThreads, "threads must be <= \(Self.maxThreads), got \(threads) (BlockingPool '\(name)')")
        self.threads = threads
        self.core = PoolThreads(name: name, threads: threads)
        core.start(executor: asUnownedTaskExecutor())
    }

    deinit {
        core.stop()
    }

    /// Threads currently running: `threads` until ``shutdown()``, then `0`.
    ///
    /// ```swift
    /// pool.shutdown()
    /// assert(pool.liveThreads == 0)
    /// ```
    public var liveThreads: Int { core.liveThreads }

    /// Stops the pool: refuses new jobs, lets the threads run the jobs already queued, and returns
    /// once every thread has exited. Calling it again does nothing.
    ///
    /// It blocks the caller while a blocking call is still running on the pool, so call it when no
    /// pipeline using the pool is running. A job that arrives later (a task that still prefers this
    /// pool) runs on the global concurrent executor instead, so nothing hangs.
    ///
    /// ```swift
    /// let pool = BlockingPool(threads: 4)
    /// defer { pool.shutdown() }
    /// ```
    ///
    /// - Precondition: not called from one of the pool's own threads (it would wait for itself).
    public func shutdown() {
        require(!core.ownsCurrentThread,
                "shutdown() called on a thread of BlockingPool '\(name)': it would wait for itself")
        core.stop()
    }

    /// Runs `job` on one of the pool's threads (called by the Swift runtime).
    ///
    /// ```swift
    /// let answer = await withTaskExecutorPreference(pool) { blockingCompute() }
    /// ```
    ///
    /// - Parameter job: The job; after ``shutdown()`` it runs on the global concurrent executor.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !core.submit(job) {
            // Shut down: run it elsewhere rather than leave its task suspended forever.
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }
}
