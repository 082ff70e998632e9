// The terminals: each call runs the pipeline once, in one task group, and returns when it is over.
import SluiceExecutor

extension Pipeline {
    /// Runs the pipeline and returns every output, in order (unless a stage is `.unordered()`).
    ///
    /// ```swift
    /// let squares = try await (Pipeline(1...3) | op.map { $0 * $0 }).collect()   // [1, 4, 9]
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: Every output of the run.
    /// - Throws: The first `StageFailure` (a stage or the source failed; every other stage is
    ///   cancelled), or `CancellationError` if the calling task was cancelled.
    @inlinable
    public func collect(isolation: isolated (any Actor)? = #isolation) async throws -> [Element] {
        try await execute { (out: RunOutput<Element>) in
            var all: [Element] = []
            while try await out.receive(into: &all) {}
            return all
        }
    }

    /// Runs the pipeline and counts its outputs.
    ///
    /// ```swift
    /// let n = try await (Pipeline(1...10) | op.filter { $0.isMultiple(of: 2) }).count()   // 5
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The number of outputs.
    /// - Throws: The first `StageFailure` (a stage or the source failed; every other stage is
    ///   cancelled), or `CancellationError` if the calling task was cancelled.
    @inlinable
    public func count(isolation: isolated (any Actor)? = #isolation) async throws -> Int {
        try await foldBatches(0) { n, batch in n += batch.count }
    }

    /// Folds the outputs, in order, on the caller's task.
    ///
    /// The closure has the same shape as `AsyncSequence.reduce`'s, and this is the only overload,
    /// so that `reduce(0, +)` resolves quickly at the end of a long `|` chain: a second overload
    /// taking a synchronous closure (which would save an asynchronous call per output) made a
    /// three-stage chain of `$0` closures ending in `.reduce(0, +)` fail to type-check in
    /// reasonable time. For the fastest fold, use `reduce(into:_:)`, whose closure is synchronous.
    ///
    /// ```swift
    /// let sum = try await Pipeline(1...4).reduce(0, +)   // 10
    /// ```
    ///
    /// - Parameters:
    ///   - initialResult: The value to start from.
    ///   - nextPartialResult: Combines the result so far with the next output; runs on the caller's task.
    ///   - isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The final result (`initialResult` when there is no output).
    /// - Throws: The first `StageFailure`, `CancellationError` if the calling task was
    ///   cancelled, or what `nextPartialResult` threw (unchanged; it stops the run).
    @inlinable
    public func reduce<Result>(
        _ initialResult: Result,
        _ nextPartialResult: (Result, Element) async throws -> Result,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Result {
        try await foldBatches(initialResult) { result, batch in
            for x in batch { result = try await nextPartialResult(result, x) }
        }
    }

    /// Folds the outputs into a mutable accumulator, in order, on the caller's task.
    ///
    /// ```swift
    /// let byLength = try await Pipeline(words).reduce(into: [Int: Int]()) { $0[$1.count, default: 0] += 1 }
    /// ```
    ///
    /// - Parameters:
    ///   - initialResult: The accumulator to start from.
    ///   - updateAccumulatingResult: Adds the next output to the accumulator; runs on the caller's task.
    ///   - isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The final accumulator.
    /// - Throws: The first `StageFailure`, `CancellationError` if the calling task was
    ///   cancelled, or what `updateAccumulatingResult` threw (unchanged; it stops the run).
    @inlinable
    public func reduce<Result>(
        into initialResult: Result,
        _ updateAccumulatingResult: (inout Result, Element) throws -> Void,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Result {
        try await foldBatches(initialResult) { result, batch in
            for x in batch { try updateAccumulatingResult(&result, x) }
        }
    }

    /// The first output, or `nil` if there is none. Stops every stage as soon as it has it.
    ///
    /// ```swift
    /// let firstBig = try await (Pipeline(1...) | op.filter { $0 > 1000 }).first()   // 1001
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The first output in order, or `nil` if the run ends without one.
    /// - Throws: The first `StageFailure` (a stage or the source failed; every other stage is
    ///   cancelled), or `CancellationError` if the calling task was cancelled.
    @inlinable
    public func first(isolation: isolated (any Actor)? = #isolation) async throws -> Element? {
        try await take(1).first
    }

    /// Up to `count` outputs; stops every stage once it has them. `take(0)` runs nothing.
    ///
    /// ```swift
    /// let three = try await (Pipeline(1...) | op.map { $0 * 2 }).take(3)   // [2, 4, 6]
    /// ```
    ///
    /// - Parameters:
    ///   - count: The most outputs to return.
    ///   - isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The first `count` outputs in order (fewer if the run ends first).
    /// - Throws: The first `StageFailure` (a stage or the source failed; every other stage is
    ///   cancelled), or `CancellationError` if the calling task was cancelled.
    @inlinable
    public func take(_ count: Int, isolation: isolated (any Actor)? = #isolation) async throws -> [Element] {
        guard count > 0 else { return [] }
        return try await execute { (out: RunOutput<Element>) in
            var taken: [Element] = []
            while taken.count < count, try await out.receive(into: &taken) {}
            if taken.count > count { taken.removeLast(taken.count - count) }
            return taken
        }
    }

    /// Runs the pipeline for its side effects, discarding the outputs.
    ///
    /// ```swift
    /// try await (Pipeline(files) | op.forEach(upload).workers(4)).drain()
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Throws: The first `StageFailure` (a stage or the source failed; every other stage is
    ///   cancelled), or `CancellationError` if the calling task was cancelled.
    @inlinable
    public func drain(isolation: isolated (any Actor)? = #isolation) async throws {
        try await foldBatches(()) { _, _ in }
    }

    /// Runs `body` on each output, in order, on the caller's task (it need not be `Sendable`).
    /// The next output waits for `body` to return. A throw from `body` stops the run and is
    /// rethrown.
    ///
    /// The only overload, so that a long `|` chain ending in `.forEach { … }` type-checks quickly:
    /// a second one taking a synchronous closure made a three-stage chain of `$0` closures take
    /// about 250 ms to type-check, four times as long.
    ///
    /// ```swift
    /// try await (Pipeline(ids) | op.map(load).workers(4)).forEach { record in table.append(record) }
    /// ```
    ///
    /// - Parameters:
    ///   - isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    ///   - body: Called with each output, in order, on the caller's task.
    /// - Throws: The first `StageFailure`, `CancellationError` if the calling task was
    ///   cancelled, or what `body` threw (unchanged; it stops the run).
    @inlinable
    public func forEach(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Element) async throws -> Void
    ) async throws {
        try await foldBatches(()) { _, batch in
            for x in batch { try await body(x) }
        }
    }

    /// Runs the pipeline and folds its outputs, a batch at a time as the consumer receives them,
    /// into `state`, on the caller's task: what every folding terminal above is made of. One call
    /// of `fold` per batch; inlined, so a `fold` that does not await costs no asynchronous call.
    @inlinable
    func foldBatches<State>(
        _ state: State,
        isolation: isolated (any Actor)? = #isolation,
        _ fold: (inout State, [Element]) async throws -> Void
    ) async throws -> State {
        try await execute { (out: RunOutput<Element>) in
            var state = state
            var batch: [Element] = []
            while try await out.receive(into: &batch) {
                try await fold(&state, batch)
                batch.removeAll(keepingCapacity: true)
            }
            return state
        }
    }
}
