// The queue as an acknowledged Sluice source: a long-polling sequence of deliveries that claims
// batches, and an acknowledge function that maps each batch of acknowledgements to done/fail.
import Sluice

/// The jobs of a ``PostgresQueue`` as an endless (or drain-and-stop) sequence of deliveries: claims a
/// batch, hands its jobs out one by one, claims the next; polls while the queue has nothing claimable.
///
/// Make one with ``PostgresQueue/deliveries(batch:lease:pollInterval:stopWhenDrained:)``; usually you
/// want ``PostgresQueue/pipeline(batch:lease:pollInterval:stopWhenDrained:maxAckBatch:)``, which also
/// acknowledges.
///
/// ```swift
/// for try await delivery in try queue.deliveries(batch: 10, lease: .seconds(30), stopWhenDrained: true) {
///     try await handle(delivery.element.job)
///     try await queue.complete([delivery.id])
/// }
/// ```
public struct PostgresQueueDeliveries<Job: Codable & Sendable>: AsyncSequence, Sendable {
    /// A job and the id it is acknowledged by.
    ///
    /// ```swift
    /// let delivery: PostgresQueueDeliveries<Email>.Element = Delivery(id: job.id, element: job)
    /// ```
    public typealias Element = Delivery<Int64, QueuedJob<Job>>

    let queue: PostgresQueue<Job>
    let batch: Int
    let lease: Duration
    let pollInterval: Duration
    let stopWhenDrained: Bool

    /// The iterator: claims lazily, one batch at a time.
    ///
    /// ```swift
    /// var iterator = deliveries.makeAsyncIterator()
    /// let first = try await iterator.next()
    /// ```
    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: PostgresQueueDeliveries
        var claimed: [QueuedJob<Job>] = []
        var next = 0

        /// The next claimed job; `nil` when the task is cancelled (the claimed jobs not handed out
        /// are released) or, with `stopWhenDrained`, when every job is done or dead.
        ///
        /// ```swift
        /// while let delivery = try await iterator.next() { print(delivery.id) }
        /// ```
        public mutating func next() async throws -> Element? {
            while true {
                if Task.isCancelled {
                    // A graceful stop interrupts the read: what this consumer claimed but did not
                    // hand out goes back now, not when its lease runs out.
                    // If even that fails, they come back when their lease runs out.
                    let unread = claimed[next...].map(\.id)
                    claimed = []
                    next = 0
                    if !unread.isEmpty {
                        // In a task of its own, awaited here: this task is cancelled, and the
                        // client's pool refuses a cancelled task a connection.
                        let queue = source.queue
                        _ = try? await Task { try await queue.release(unread) }.value
                    }
                    return nil
                }
                if next < claimed.count {
                    defer { next += 1 }
                    return Delivery(id: claimed[next].id, element: claimed[next])
                }
                do {
                    claimed = try await source.queue.claim(batch: source.batch, lease: source.lease)
                } catch where Task.isCancelled {
                    return nil   // a claim interrupted by a stop: anything it took comes back after its lease
                }
                next = 0
                if !claimed.isEmpty { continue }
                if source.stopWhenDrained, try await source.queue.isDrained() { return nil }
                do {
                    try await Task.sleep(for: source.pollInterval)
                } catch {
                    return nil   // cancelled while polling: nothing claimed, nothing to release
                }
            }
        }
    }

    /// Starts reading.
    ///
    /// ```swift
    /// var iterator = deliveries.makeAsyncIterator()
    /// ```
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: self)
    }
}

extension PostgresQueue {
    /// The queue's jobs as deliveries, claimed `batch` at a time for `lease` each.
    ///
    /// ```swift
    /// let deliveries = try queue.deliveries(batch: 32, lease: .seconds(60))
    /// ```
    ///
    /// - Parameters:
    ///   - batch: Jobs per claim; at least 1. Claimed jobs wait in the iterator until read, so their
    ///     lease must also cover that wait.
    ///   - lease: How long each claimed job is this consumer's: longer than the time from its claim
    ///     to its acknowledgement, or another consumer may get it too (harmless with idempotent
    ///     sinks, but wasted work). More than zero.
    ///   - pollInterval: The wait between two claims that found nothing; more than zero.
    ///   - stopWhenDrained: End the sequence once every job is done or dead (a batch job: see
    ///     ``PostgresQueue/isDrained()``); otherwise wait for new jobs for ever (a service). The
    ///     sequence then also waits for this consumer's own jobs to be acknowledged (a failed one
    ///     comes back and is claimed again), so the stages after it must finish each item without
    ///     waiting for the source to end: batch with `op.batch(n, within: d)`, not `op.batch(n)`, and
    ///     end with `drain()` or `forEach`, not `collect()` (which acknowledges at the end of the run).
    /// - Throws: ``PostgresQueueError`` naming an invalid parameter and its value.
    public func deliveries(
        batch: Int = 32, lease: Duration = .seconds(30), pollInterval: Duration = .milliseconds(200),
        stopWhenDrained: Bool = false
    ) throws -> PostgresQueueDeliveries<Job> {
        guard batch >= 1 else { throw PostgresQueueError("batch must be >= 1, got \(batch)") }
        guard lease > .zero else { throw PostgresQueueError("lease must be > 0, got \(lease)") }
        guard pollInterval > .zero else { throw PostgresQueueError("pollInterval must be > 0, got \(pollInterval)") }
        return PostgresQueueDeliveries(queue: self, batch: batch, lease: lease, pollInterval: pollInterval,
                                       stopWhenDrained: stopWhenDrained)
    }

    /// Applies one batch of a pipeline's acknowledgements: completed jobs are marked done (one
    /// statement), failed ones are failed with their `StageFailure`'s description as the text kept
    /// (one statement) — retried after the backoff, or dead-lettered.
    ///
    /// ```swift
    /// let jobs = AcknowledgedPipeline(acknowledge: queue.acknowledge, deliveries: { try queue.deliveries() })
    /// ```
    public func acknowledge(_ batch: AckBatch<Int64>) async throws {
        var done: [Int64] = []
        var failed: [(id: Int64, reason: String)] = []
        for acknowledgement in batch.acknowledgements {
            switch acknowledgement.outcome {
            case .completed: done.append(acknowledgement.id)
            case .failed(let failure): failed.append((acknowledgement.id, String(describing: failure)))
            }
        }
        try await complete(done)
        try await fail(failed)
    }

    /// The queue as an acknowledged Sluice source: every job that leaves the pipeline completed is
    /// marked done, every job that leaves it as a railway failure is failed (retried after the
    /// backoff, dead-lettered after `maxAttempts`, its `StageFailure` text kept), and a job whose
    /// run failed or was cancelled before it completed comes back after its lease (at-least-once).
    ///
    /// ```swift
    /// let stop = GracefulStop()
    /// try await (try queue.pipeline(batch: 64, lease: .seconds(60))
    ///     | op.tryMap(render).workers(4)          // a failure is a value: the job is failed, not the run
    ///     | op.successes()
    ///     | op.batch(200, within: .milliseconds(50))
    ///     | sink.flow)
    ///     .withGracefulStop(stop)
    ///     .drain()
    /// ```
    ///
    /// - Parameters:
    ///   - batch, lease, pollInterval, stopWhenDrained: As for ``deliveries(batch:lease:pollInterval:stopWhenDrained:)``.
    ///   - maxAckBatch: The most acknowledgements per round trip to the server; at least 1.
    /// - Throws: ``PostgresQueueError`` naming an invalid parameter and its value.
    public func pipeline(
        batch: Int = 32, lease: Duration = .seconds(30), pollInterval: Duration = .milliseconds(200),
        stopWhenDrained: Bool = false, maxAckBatch: Int = 256
    ) throws -> AcknowledgedPipeline<QueuedJob<Job>> {
        guard maxAckBatch >= 1 else { throw PostgresQueueError("maxAckBatch must be >= 1, got \(maxAckBatch)") }
        let deliveries = try deliveries(batch: batch, lease: lease, pollInterval: pollInterval, stopWhenDrained: stopWhenDrained)
        let queue = self
        return AcknowledgedPipeline(
            maxBatch: maxAckBatch,
            acknowledge: { batch in try await queue.acknowledge(batch) },
            deliveries: { deliveries })
    }
}
