// `op.batch(n, within:)`, `op.batch(maxWeight:within:weight:)` and their `Batch` forms: batches
// closed by size, by weight or by time, with their timed body.
import SluiceExecutor

extension op {
    /// Groups consecutive items into arrays of `size`, or fewer when `within` has passed since the
    /// first item of the array (like Akka's `groupedWithin` or swift-async-algorithms'
    /// `chunks(ofCount:or:)`, but the timer starts at the array's first item, never on an empty one).
    ///
    /// ```swift
    /// Pipeline(events) | op.batch(100, within: .seconds(1))   // at most 100 rows, at most 1 s late
    /// ```
    ///
    /// The last array is flushed at the end of the input; no array is ever empty. If the input
    /// fails, the array being filled is not flushed (as for `batch(n)`). A timed `batch` is a
    /// segment of its own with one worker, and cannot be inside a fragment that a modifier turns
    /// into one stage.
    ///
    /// - Parameters:
    ///   - size: The most items per array; at least 1 (a precondition).
    ///   - within: The longest an item waits in a partial array; `> 0` (a precondition).
    ///   - clock: The clock the wait is measured on; `ContinuousClock` unless a test injects one.
    /// - Returns: A one-stage flow of kind `batch`.
    public static func batch<A>(_ size: Int, within: Duration, clock: some Clock<Duration> = ContinuousClock()) -> Flow<A, [A]> {
        require(size >= 1, "batch size must be >= 1, got \(size) (stage 'batch')")
        require(within > .zero, "batch within must be > 0, got \(within) (stage 'batch')")
        var node = StageNode(kind: .batch, isSequential: true, body: BatchWithinBody<A, _>(
            limit: .count(size), within: within, clock: clock, weight: nil))
        node.parameters = "\(size), within: \(within.shortDescription)"
        return Flow(node)
    }

    /// Groups consecutive items into arrays whose total weight stays within `maxWeight` (a batch
    /// of bytes, not of items), also closed when `within` has passed since its first item.
    ///
    /// ```swift
    /// Pipeline(rows) | op.batch(maxWeight: 1 << 20, within: .seconds(2)) { (row: Data) in row.count }
    /// ```
    ///
    /// An item that would take the array past `maxWeight` starts the next array; an item heavier
    /// than `maxWeight` on its own is an array of one. An array is emitted as soon as it reaches
    /// `maxWeight`, and at the end of the input. No array is ever empty.
    ///
    /// - Parameters:
    ///   - maxWeight: The most total weight per array; at least 1 (a precondition).
    ///   - within: The longest an item waits in a partial array (`nil`: no time limit); `> 0`.
    ///   - clock: The clock the wait is measured on; `ContinuousClock` unless a test injects one.
    ///   - weight: The weight of an item (negative counts as 0). An error it throws fails the run
    ///     with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `batch`.
    public static func batch<A>(maxWeight: Int, within: Duration? = nil, clock: some Clock<Duration> = ContinuousClock(),
                                weight: @escaping @Sendable (A) throws -> Int) -> Flow<A, [A]> {
        require(maxWeight >= 1, "batch maxWeight must be >= 1, got \(maxWeight) (stage 'batch')")
        if let within { require(within > .zero, "batch within must be > 0, got \(within) (stage 'batch')") }
        var node = StageNode(kind: .batch, isSequential: true, body: BatchWithinBody<A, _>(
            limit: .weight(maxWeight), within: within, clock: clock, weight: weight))
        node.parameters = "maxWeight: \(maxWeight)" + (within.map { ", within: \($0.shortDescription)" } ?? "")
        return Flow(node)
    }
}

extension Batch {
    /// A `batch` stage closed by size or by time (same stage as `op.batch(_:within:clock:)`).
    ///
    /// ```swift
    /// Flow<Row, [Row]> { Batch(100, within: .seconds(1)) }
    /// ```
    ///
    /// - Parameters:
    ///   - size: The most items per array; at least 1 (a precondition).
    ///   - within: The longest an item waits in a partial array; `> 0` (a precondition).
    ///   - clock: The clock the wait is measured on; `ContinuousClock` unless a test injects one.
    public init(_ size: Int, within: Duration, clock: some Clock<Duration> = ContinuousClock()) {
        flow = op.batch(size, within: within, clock: clock)
    }

    /// A `batch` stage closed by total weight, and by time if `within` is given (same stage as
    /// `op.batch(maxWeight:within:clock:weight:)`).
    ///
    /// ```swift
    /// Batch(maxWeight: 1 << 20) { (row: Data) in row.count }
    /// ```
    ///
    /// - Parameters:
    ///   - maxWeight: The most total weight per array; at least 1 (a precondition).
    ///   - within: The longest an item waits in a partial array (`nil`: no time limit); `> 0`.
    ///   - clock: The clock the wait is measured on; `ContinuousClock` unless a test injects one.
    ///   - weight: The weight of an item (negative counts as 0).
    public init(maxWeight: Int, within: Duration? = nil, clock: some Clock<Duration> = ContinuousClock(),
                weight: @escaping @Sendable (Element) throws -> Int) {
        flow = op.batch(maxWeight: maxWeight, within: within, clock: clock, weight: weight)
    }
}


/// A batch closed by count or weight, and optionally by time since its first item.
package struct BatchWithinBody<A: Sendable, C: Clock<Duration>>: TimedStageBody {
    package enum Limit: Sendable { case count(Int), weight(Int) }
    package typealias Input = A
    package typealias Output = [A]

    let limit: Limit
    let within: Duration?
    let clock: C
    let weight: (@Sendable (A) throws -> Int)?

    package init(limit: Limit, within: Duration?, clock: C, weight: (@Sendable (A) throws -> Int)?) {
        self.limit = limit
        self.within = within
        self.clock = clock
        self.weight = weight
    }

    package func makeTimedKernel(context: StageContext) -> TimedKernel<A, [A]> {
        let limit = limit, within = within.map { Swift.min($0, .longestWait) }, weight = weight, name = context.name
        // The array being filled, its weight and the time of its first item.
        let state = Box((pending: [A](), total: 0, started: Duration?.none))
        func emit(_ output: inout [[A]]) {
            guard !state.value.pending.isEmpty else { return }
            output.append(state.value.pending)
            state.value = ([], 0, nil)
        }
        return TimedKernel(
            timeline: Timeline(clock), capacity: 0,
            receive: { x, now, output in
                switch limit {
                case .count(let size):
                    if state.value.pending.isEmpty { state.value.started = now }
                    state.value.pending.append(x)
                    if state.value.pending.count >= size { emit(&output) }
                case .weight(let maxWeight):
                    let w = Swift.max(0, try callSync(weight!, x, stage: name))
                    if !state.value.pending.isEmpty && state.value.total > maxWeight - w { emit(&output) }
                    if state.value.pending.isEmpty { state.value.started = now }
                    state.value.pending.append(x)
                    state.value.total += w
                    if state.value.total >= maxWeight { emit(&output) }
                }
            },
            deadline: {
                guard let within, let started = state.value.started else { return nil }
                return started + within
            },
            fire: { _, output in emit(&output) },
            finish: { output in emit(&output) })
    }
}

extension Duration {
    /// `2s`, `1.5s`, `300ms`, `250µs`, `10ns`: the duration as a stage description shows it.
    var shortDescription: String {
        let (seconds, attoseconds) = components
        let nanoseconds = attoseconds / 1_000_000_000
        func decimal(_ whole: Int64, _ fraction: Int64, digits: Int) -> String {
            guard fraction != 0 else { return "\(whole)" }
            var text = String(fraction)
            text = String(repeating: "0", count: Swift.max(0, digits - text.count)) + text
            while text.hasSuffix("0") { text.removeLast() }
            return "\(whole).\(text)"
        }
        if seconds != 0 || nanoseconds == 0 { return decimal(seconds, nanoseconds, digits: 9) + "s" }
        if nanoseconds % 1_000_000 == 0 || nanoseconds >= 1_000_000 {
            return decimal(nanoseconds / 1_000_000, nanoseconds % 1_000_000, digits: 6) + "ms"
        }
        if nanoseconds >= 1_000 { return decimal(nanoseconds / 1_000, nanoseconds % 1_000, digits: 3) + "µs" }
        return "\(nanoseconds)ns"
    }
}
