// `for try await` over a pipeline.
import SluiceExecutor
import Synchronization

extension Pipeline: AsyncSequence {
    /// The error a run can end with: a `StageFailure`, `CancellationError`, or an error your code threw.
    public typealias Failure = any Error

    /// Iterates the pipeline's outputs. Leaving the loop (`break`, an error) stops the run.
    ///
    /// What a bare loop promises: once it has exited, no stage body *starts* and the source is not
    /// read again. A body that was already running when the loop exited may still be finishing
    /// for a moment, because an iterator cannot wait when it is dropped. When you need every task
    /// of the run to have ended before you go on, use ``open(isolation:_:)`` instead.
    ///
    /// ```swift
    /// for try await page in Pipeline(urls) | op.map(fetch).workers(8) {
    ///     if page.isLast { break }   // stops every stage
    /// }
    /// ```
    ///
    /// - Returns: An iterator; its first `next()` starts a run.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pipeline: self)
    }

    /// The iterator of a pipeline run.
    ///
    /// `next()` cannot host a task group across calls, so the run's task group lives in one task
    /// that this iterator owns (the only task Sluice creates outside a task group; the terminals
    /// `collect`, `forEach`, … need none). The iterator stops the run when it is dropped, and
    /// awaits that task before reporting the end or an error. It belongs to the loop that made it:
    /// it is not `Sendable`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let state: IteratorState<Element>

        init(pipeline: Pipeline) {
            state = IteratorState(pipeline: pipeline)
        }

        /// The next output, or `nil` after the last one. The first call starts the run.
        ///
        /// - Returns: The next output in order (completion order after `.unordered()`), or `nil`
        ///   when the run has ended.
        /// - Throws: The run's `StageFailure`, after the outputs of every item before it, or
        ///   `CancellationError` if the task was cancelled.
        public mutating func next() async throws -> Element? {
            try await state.next()
        }
    }
}

@available(*, unavailable, message: "a pipeline's iterator belongs to the loop that made it")
extension Pipeline.AsyncIterator: Sendable {}

/// The run behind one `AsyncIterator`; stops it on deinit (`break`).
final class IteratorState<Element: Sendable> {
    let pipeline: Pipeline<Element>
    var buffer: [Element] = []
    var index = 0
    var output: RunOutput<Element>?
    var task: Task<Void, Never>?
    let handoff = Handoff<Element>()
    var ended = false

    init(pipeline: Pipeline<Element>) {
        self.pipeline = pipeline
    }

    func next() async throws -> Element? {
        // A cancelled caller gets no more items, even those already received in a batch.
        if Task.isCancelled && !ended {
            output?.run.stop()
            await finish()
            throw CancellationError()
        }
        if index < buffer.count {
            defer { index += 1 }
            return buffer[index]
        }
        if ended { return nil }
        if output == nil { output = try await start() }
        buffer.removeAll(keepingCapacity: true)
        index = 0
        do {
            if try await output!.receive(into: &buffer) {
                index = 1
                return buffer[0]
            }
        } catch {
            await finish()
            // An error a body made of the cancellation is not the run's failure.
            if Task.isCancelled { throw CancellationError() }
            // A run stopped by one of its time limits reports the limit, not the stop.
            if let limit = output?.watch?.fired { throw limit }
            throw error
        }
        await finish()
        return nil
    }

    private func start() async throws -> RunOutput<Element> {
        let pipeline = self.pipeline, handoff = self.handoff
        // The one unstructured task: see `Pipeline.AsyncIterator`. It is cancelled in `deinit` and
        // awaited in `finish()`, so the run never outlives the iterator.
        task = Task {
            do {
                try await pipeline.execute { (out: RunOutput<Element>) in
                    handoff.deliver(out)
                    try await handoff.waitUntilDone()
                }
            } catch {
                handoff.deliverFailure(error)
            }
        }
        return try await handoff.output()
    }

    /// The end or an error: release the run and wait for every task of it.
    private func finish() async {
        ended = true
        handoff.done()
        await task?.value
        task = nil
    }

    deinit {
        // `break` (or dropping the iterator): stop at once, so no stage body starts again.
        output?.run.stop()
        handoff.done()
        task?.cancel()
    }
}

/// Passes the run's output from the run's task to the iterator, and the "done" signal back.
final class Handoff<Element: Sendable>: Sendable {
    private struct State {
        var output: RunOutput<Element>?
        var failure: (any Error)?
        var outputWaiter: CheckedContinuation<RunOutput<Element>, any Error>?
        var done = false
        var doneWaiter: CheckedContinuation<Void, any Error>?
    }
    private let state = Lock(State())

    func deliver(_ output: RunOutput<Element>) {
        let waiter = state.withLock { s in
            s.output = output
            defer { s.outputWaiter = nil }
            return s.outputWaiter
        }
        waiter?.resume(returning: output)
    }

    func deliverFailure(_ error: any Error) {
        let waiter = state.withLock { s in
            s.failure = error
            defer { s.outputWaiter = nil }
            return s.outputWaiter
        }
        waiter?.resume(throwing: error)
    }

    func output() async throws -> RunOutput<Element> {
        try await withCheckedThrowingContinuation { c in
            let ready: Result<RunOutput<Element>, any Error>? = state.withLock { s in
                if let o = s.output { return .success(o) }
                if let f = s.failure { return .failure(f) }
                s.outputWaiter = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }

    func done() {
        let waiter = state.withLock { s in
            s.done = true
            defer { s.doneWaiter = nil }
            return s.doneWaiter
        }
        waiter?.resume()
    }

    /// Waits until the iterator is done with the run (or the run's task is cancelled).
    func waitUntilDone() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let now = state.withLock { s -> Bool in
                    if s.done { return true }
                    s.doneWaiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            self.done()
        }
    }
}
