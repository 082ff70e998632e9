// Helpers for the blocking-stage tests: a semaphore wait with a timeout, and a count of the
// process's OS threads carrying a given name.
import Foundation
import Sluice
import SluiceTestSupport
import Testing

extension DispatchSemaphore {
    /// Waits for a signal; after `seconds` gives up and records a test failure, so that a test
    /// whose signaller can never run (a starved cooperative pool) fails instead of hanging.
    func waitOrFail(seconds: Int = 20, sourceLocation: SourceLocation = #_sourceLocation) {
        if wait(timeout: .now() + .seconds(seconds)) == .timedOut {
            Issue.record("a blocking call waited \(seconds) s for a signal that never came", sourceLocation: sourceLocation)
        }
    }
}

/// The blocking tests' helpers, in a namespace so they cannot clash with other test files'.
enum Blocking {
    /// The process's threads whose name is `name` (Linux: read from /proc/self/task/*/comm);
    /// `nil` where that is not available.
    static func osThreads(named name: String) -> Int? {
        #if os(Linux)
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        return tasks.filter { tid in
            let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)
            return comm?.trimmingCharacters(in: .newlines) == name
        }.count
        #else
        return nil
        #endif
    }

    /// Polls /proc until no thread is named `name` (true), or gives up after 10 s (false); always
    /// true where /proc is not available. The kernel removes a thread's entry a moment after
    /// `pthread_join` returns, and offers nothing to wait on: this polls, it does not sleep.
    static func waitUntilNoOSThreads(named name: String) -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while let n = osThreads(named: name), n > 0 {
            if ContinuousClock.now > deadline { return false }
            sched_yield()
        }
        return true
    }

    /// A pool name no other test uses (at most 15 bytes, the OS limit for thread names).
    static func uniquePoolName(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max) % 100_000)"
    }
}

/// A blocking stage whose calls count themselves in flight and then wait until the test signals
/// `release` (once per call): the in-flight maximum is a count, not a timing.
struct GatedBlockingCalls: Sendable {
    let inFlight = HighWater()
    let entered = Counter()
    let release = DispatchSemaphore(value: 0)

    func flow(workers: Int, on pool: BlockingPool) -> Flow<Int, Int> {
        op.map { (x: Int) -> Int in
            inFlight.enter()
            entered.increment()
            release.waitOrFail()
            inFlight.leave()
            return x
        }.workers(workers).blocking(on: pool)
    }
}
