// A task executor that runs nothing until the test says so: after `runUntilIdle()` every task on
// it is suspended, so a test knows a sender or receiver is really waiting — without sleeping.
import SluiceExecutor

/// Jobs enqueued here wait until `runUntilIdle()`, which runs them (and whatever they enqueue)
/// on the calling thread until none is left.
///
/// ```swift
/// group.addTask(executorPreference: executor) { try await channel.receive(into: &buffer, limit: 1) }
/// executor.runUntilIdle()      // the receiver is now suspended inside `receive`
/// channel.finish()             // resumes it: its next job is queued here
/// executor.runUntilIdle()      // it runs to completion
/// ```
final class ManualExecutor: TaskExecutor {
    private let jobs = Lock<[UnownedJob]>([])

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
    }

    /// Runs queued jobs until the queue is empty: every task on this executor is then suspended
    /// (or finished).
    func runUntilIdle() {
        while let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
