// A stage that runs its own tasks instead of the segment workers: per-key order (`partitioned`) and
// recursive expansion (`expand`). Its workers are still child tasks of the run's task group.
import Synchronization

/// A stage body that launches its own workers (a coordinator between its input and its workers).
/// The runner calls `launch` instead of starting `SegmentWorker`s when a segment is one such stage.
/// Inside a group or a branch, where there is no segment of its own, `makeAsyncSink` runs it
/// inside each worker of the enclosing stage.
package protocol LaunchingBody: StageBody {
    /// Items the stage holds beyond one item per worker and its output channel (its queues).
    func heldBound(workers: Int) -> Int

    /// Starts the stage's tasks in `group`, reading `input`; returns its output channel and a halt
    /// (stops every task of the stage and cancels its output).
    func launch(_ segment: Plan.Segment, input: Channel<Input>, haltUpstream: @escaping @Sendable () -> Void,
                group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Channel<Output>, @Sendable () -> Void)
}

extension LaunchingBody {
    func launchErased(_ segment: Plan.Segment, input: Any, haltUpstream: @escaping @Sendable () -> Void,
                      group: inout ThrowingTaskGroup<Void, any Error>, run: RunState) -> (Any, @Sendable () -> Void) {
        let (output, halt) = launch(segment, input: input as! Channel<Input>, haltUpstream: haltUpstream, group: &group, run: run)
        return (output, halt)
    }
}

/// A launched stage that runs another stage (its `inner` node) on each item: modifiers that wrap
/// a stage's per-item call (retry, timeout, middleware, hooks) apply to the inner stage.
package protocol WrapsStage: StageBody {
    var inner: StageNode { get set }
}

/// A value guarded by a lock that tasks can wait on until it allows them to go on. Every `update`
/// wakes every waiter, which then re-checks its condition (few waiters: one per worker).
package final class Monitor<State>: Sendable {
    private struct Inner {
        var state: State
        var version = 0
        var cancelled = false
        var waiters: [UnsafeContinuation<Void, Never>] = []
    }
    private let lock: Lock<Inner>

    package init(_ state: sending State) {
        lock = Lock(Inner(state: state))
    }

    package var isCancelled: Bool { lock.withLock { $0.cancelled } }

    /// Reads or changes the state and wakes every waiter.
    package func update<R: Sendable>(_ change: (inout State) -> R) -> R {
        let (result, waiters) = lock.withLock { inner -> (R, [UnsafeContinuation<Void, Never>]) in
            let r = change(&inner.state)
            inner.version &+= 1
            defer { inner.waiters.removeAll() }
            return (r, inner.waiters)
        }
        for w in waiters { w.resume() }
        return result
    }

    /// Calls `attempt` under the lock until it returns a value, waiting for an `update` between
    /// tries. Throws `CancellationError` once the monitor is cancelled (or the waiting task is).
    package func wait<R: Sendable>(_ attempt: (inout State) -> R?) async throws -> R {
        while true {
            let (result, version, cancelled) = lock.withLock { inner -> (R?, Int, Bool) in
                if inner.cancelled { return (nil, 0, true) }
                guard let r = attempt(&inner.state) else { return (nil, inner.version, false) }
                inner.version &+= 1
                return (r, inner.version, false)
            }
            if cancelled { throw CancellationError() }
            if let result {
                wakeAll()   // taking something may unblock others (room for a producer)
                return result
            }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                    let now = lock.withLock { inner -> Bool in
                        if inner.cancelled || inner.version != version { return true }
                        inner.waiters.append(c)
                        return false
                    }
                    if now { c.resume() }
                }
            } onCancel: {
                self.cancel()
            }
        }
    }

    private func wakeAll() {
        let waiters = lock.withLock { inner -> [UnsafeContinuation<Void, Never>] in
            defer { inner.waiters.removeAll() }
            return inner.waiters
        }
        for w in waiters { w.resume() }
    }

    /// Wakes every waiter for good: every later `wait` throws `CancellationError`.
    package func cancel() {
        let waiters = lock.withLock { inner -> [UnsafeContinuation<Void, Never>] in
            inner.cancelled = true
            defer { inner.waiters.removeAll() }
            return inner.waiters
        }
        for w in waiters { w.resume() }
    }
}

/// What the workers of a launched stage share: their stop signals, the first failure, and how the
/// stage's output ends. Each worker is one producer of `output`.
package final class LaunchedStage<Output: Sendable>: Sendable {
    package let output: Channel<Output>
    package let stops: [StopSignal]
    let haltUpstream: @Sendable () -> Void
    let run: RunState
    /// Cancels the stage's coordinator (wakes its waiters for good).
    let cancelCoordinator: @Sendable () -> Void
    /// True once the coordinator was cancelled: the stage is being torn down.
    let coordinatorCancelled: @Sendable () -> Bool
    /// Set when the run is measured: each worker takes a probe from it.
    let meter: SegmentMeter?
    private let failed = Atomic<Bool>(false)

    init<State>(_ segment: Plan.Segment, haltUpstream: @escaping @Sendable () -> Void, run: RunState, coordinator: Monitor<State>) {
        output = Channel<Output>(capacity: segment.capacity, producers: segment.workers, senderCancellationCancels: false)
        stops = (0..<segment.workers).map { _ in StopSignal() }
        self.haltUpstream = haltUpstream
        self.run = run
        self.cancelCoordinator = { coordinator.cancel() }
        self.coordinatorCancelled = { coordinator.isCancelled }
        meter = run.metrics?.segment(stages: 1, output: output)
    }

    /// Stops every worker and cancels the output: the run stopped, or a later stage failed.
    package var halt: @Sendable () -> Void {
        { [self] in
            // Stops first: a worker woken by the cancelled coordinator must see it is stopped.
            for s in stops { s.set() }
            cancelCoordinator()
            output.cancel()
        }
    }

    /// Runs worker `index`: `work` in a child task cancelled as soon as the worker's stop is set
    /// (so a body waiting on something ends at once), then ends the worker's share of the output.
    /// `work` returns the failure to end with after the outputs (an upstream failure), or throws.
    package func runWorker(_ index: Int, _ work: @escaping @Sendable (StopSignal) async throws -> (any Error)?) async {
        let stop = stops[index]
        let outcome: Result<(any Error)?, any Error> = await withTaskGroup(of: Result<(any Error)?, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await work(stop)) } catch { return .failure(error) }
            }
            group.addTask {
                await stop.wait()
                return nil
            }
            var result: Result<(any Error)?, any Error>?
            while let next = await group.next() {
                if let next { result = next }
                group.cancelAll()
            }
            return result!
        }
        switch outcome {
        case .success(let ending):
            output.finish(failure: ending)
        case .failure where stop.isSet:
            // Told to stop (another worker failed, or the run is stopping): whatever the body made
            // of it, this is not the stage's failure.
            output.finish(failure: CancellationError())
        case .failure(let error) where error is CancellationError:
            if !stop.isSet && !run.isStopped && !failed.load(ordering: .acquiring) && !coordinatorCancelled() {
                // A body cancelled itself (not a wait on the coordinator, cancelled because the
                // stage is being torn down — say its input was halted): the run ends as cancelled.
                run.stop()
            }
            output.finish(failure: CancellationError())
        case .failure(let error):
            // The first failure ends the output (behind what the workers already sent); then
            // everything upstream and every other worker stops.
            output.finish(failure: error)
            if !failed.exchange(true, ordering: .acquiringAndReleasing) {
                haltUpstream()
                for (i, s) in stops.enumerated() where i != index { s.set() }
                cancelCoordinator()
            }
        }
    }
}

/// The dispatcher of a launched stage: reads `input` in batches and hands each item to `offer`
/// (which returns false to stop reading), then reports how the input ended: `ended(nil)` at its
/// end or when `offer` stopped, `ended(failure)` when the upstream failed (passed on once every
/// item before it is out), `cancelled()` when the input was cancelled (the stage is stopping).
func dispatch<Input: Sendable>(
    _ input: Channel<Input>, take: Int, offer: (Input) async throws -> Bool,
    ended: ((any Error)?) -> Void, cancelled: () -> Void
) async {
    var batch: [Input] = []
    do {
        reading: while try await input.receive(into: &batch, limit: take) != nil {
            for x in batch where try await !offer(x) { break reading }
            batch.removeAll(keepingCapacity: true)
        }
        ended(nil)
    } catch is CancellationError {
        cancelled()
    } catch {
        ended(error)
    }
}
