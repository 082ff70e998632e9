// What a measured run reports: per-stage counters, busy time and buffer occupancy, at one moment.

/// The state of a measured pipeline at one moment (while it runs, or after it ended).
///
/// ```swift
/// let metrics = PipelineMetrics()
/// _ = try await (Pipeline(urls) | op.map(fetch).workers(8).named("fetch")).metrics(metrics).collect()
/// let fetch = metrics.snapshot().stages[0]
/// print(fetch.inputs, fetch.outputs, fetch.failures, fetch.retries, fetch.busy)
/// ```
public struct MetricsSnapshot: Sendable, Hashable {
    /// One entry per stage, in pipeline order (a fragment acting as one stage is one entry).
    public var stages: [StageMetrics]
    /// Wall time since the run started (until it ended, once it has).
    public var elapsed: Duration
    /// True once the run has ended (normally, by an error, or cancelled).
    public var isFinished: Bool

    /// A snapshot with these figures. Only the metrics recorder (and the package's tests) make them:
    /// read snapshots with `PipelineMetrics.snapshot()`.
    package init(stages: [StageMetrics], elapsed: Duration, isFinished: Bool) {
        self.stages = stages
        self.elapsed = elapsed
        self.isFinished = isFinished
    }

    /// The entry for the stage named `name` (the first, if several share it).
    ///
    /// ```swift
    /// metrics.snapshot()["fetch"]?.retries
    /// ```
    public subscript(name: String) -> StageMetrics? {
        stages.first { $0.name == name }
    }
}

/// One stage's counters in a `MetricsSnapshot`.
///
/// `inputs - outputs` is what the stage dropped (`filter`), failed on, or is still working on; a
/// `flatMap` can emit more than it received.
///
/// ```swift
/// let s = metrics.snapshot()["parse"]!
/// print("\(s.name): \(s.inputs) in, \(s.outputs) out, \(s.failures) failed, busy \(s.busy)")
/// ```
public struct StageMetrics: Sendable, Hashable {
    /// The stage's name (see `named(_:)`).
    public var name: String
    /// `map`, `filter`, …
    public var kind: String
    /// Workers running the stage.
    public var workers: Int
    /// Items that entered the stage.
    public var inputs: Int
    /// Items the stage emitted.
    public var outputs: Int
    /// Items the stage failed on: thrown failures (in a fail-fast run, the one that stopped it, plus
    /// any that failed at the same time in other workers) and railway failure values it produced.
    public var failures: Int
    /// Extra attempts made by `retry` (an item that succeeded on its third attempt counts 2).
    public var retries: Int
    /// Items dropped on purpose by a full buffer with a drop policy (`buffer(n, whenFull:)`).
    public var dropped: Int = 0
    /// Time the stage's workers spent waiting for a rate limiter (`rateLimited(_:)`), summed over
    /// workers.
    public var throttled: Duration = .zero
    /// Time the stage's workers spent processing items, summed over workers. Stages fused into one
    /// task (see `sharesTaskWithPrevious`) report their task's time, so it is not additive.
    public var busy: Duration
    /// True when the executor fused this stage into the previous stage's task: it has no buffer of
    /// its own and its `busy` time is that task's.
    public var sharesTaskWithPrevious: Bool
    /// The stage's output buffer, unless the stage is fused into the next one.
    public var buffer: BufferMetrics?

    /// An entry with these figures. Only the metrics recorder (and the package's tests) make them.
    package init(name: String, kind: String, workers: Int, inputs: Int, outputs: Int, failures: Int = 0,
                retries: Int = 0, busy: Duration = .zero, sharesTaskWithPrevious: Bool = false, buffer: BufferMetrics? = nil) {
        self.name = name
        self.kind = kind
        self.workers = workers
        self.inputs = inputs
        self.outputs = outputs
        self.failures = failures
        self.retries = retries
        self.busy = busy
        self.sharesTaskWithPrevious = sharesTaskWithPrevious
        self.buffer = buffer
    }
}

/// A stage's output buffer: its capacity, how full it is, and the fullest it was seen.
///
/// ```swift
/// if let b = metrics.snapshot()["fetch"]?.buffer, b.highWater == b.capacity {
///     print("fetch's consumer is the bottleneck")
/// }
/// ```
public struct BufferMetrics: Sendable, Hashable {
    /// Items the buffer holds at most (`Int.max`: unbounded).
    public var capacity: Int
    /// Items in the buffer when the snapshot was taken.
    public var current: Int
    /// The highest level observed. Sampled (after each chunk of items a worker processes, at every
    /// snapshot and progress tick), so a short peak between samples can be missed.
    public var highWater: Int
    /// The buffer's weight bound, set with `.buffer(maxWeight:weight:)` (`nil`: by count only).
    public var maxWeight: Int?
    /// The total weight of the items in the buffer when the snapshot was taken (`0` without a
    /// weight bound).
    public var weight: Int
    /// The highest total weight observed (sampled like `highWater`).
    public var weightHighWater: Int

    /// Buffer figures. Only the metrics recorder (and the package's tests) make them.
    package init(capacity: Int, current: Int, highWater: Int, maxWeight: Int? = nil, weight: Int = 0, weightHighWater: Int = 0) {
        self.capacity = capacity
        self.current = current
        self.highWater = highWater
        self.maxWeight = maxWeight
        self.weight = weight
        self.weightHighWater = weightHighWater
    }
}
