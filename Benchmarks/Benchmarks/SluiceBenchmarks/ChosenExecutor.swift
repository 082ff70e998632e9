import Dispatch
import Foundation

// Where the async benchmark bodies run.
//
// package-benchmark 1.38 runs an async benchmark by blocking the thread that runs its own async
// driver (`Benchmark.runAsync`: `DispatchSemaphore.wait()` inside the async `BenchmarkRunner.run()`),
// and that thread belongs to Swift's cooperative pool, whose width is the core count. On the 2-core
// benchmark machine an async benchmark therefore gets ONE thread: measured, a 2-task group doing
// W3's CPU work takes as long as the plain loop (4.0 s vs 4.0 s; 2.0 s outside the harness).
//
// By default the bodies run on the default global executor anyway (what users get, minus that one
// thread). With SLUICE_BENCH_EXECUTOR=dispatch in the environment they run with a task-executor
// preference for `DispatchTaskExecutor`, which hands every job to a global Dispatch queue and gets
// all the cores back; child tasks (task groups, Sluice's workers) inherit the preference.
// Measured: W3's 2-task group takes 2.5 s with it, 4.4 s without (same run conditions).
// Its cost: one Dispatch block allocation per job, so malloc counts are only comparable
// between runs in the same mode (compare mallocs in the default mode).

/// A task executor that runs each job on the global Dispatch queue, as the Linux runtime's default
/// global executor does, but outside the cooperative pool the harness has blocked a thread of.
final class DispatchTaskExecutor: TaskExecutor {
    private let queue = DispatchQueue.global(qos: .userInitiated)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// The executor chosen with SLUICE_BENCH_EXECUTOR (`dispatch`), or nil for the default one.
let chosenExecutor: (any TaskExecutor)? = {
    switch ProcessInfo.processInfo.environment["SLUICE_BENCH_EXECUTOR"] {
    case nil, "", "default": return nil
    case "dispatch": return DispatchTaskExecutor()
    case let other?: fatalError("SLUICE_BENCH_EXECUTOR=\(other): expected `default` or `dispatch`")
    }
}()

/// Runs `body` on the chosen executor (see above). Wrap every async benchmark body in it.
func onChosenExecutor<T>(_ body: () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(chosenExecutor, operation: body)
}
