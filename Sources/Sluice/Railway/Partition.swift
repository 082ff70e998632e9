// `partition()`: the railway's terminal — runs the pipeline and splits its results in two.
import SluiceExecutor

extension Pipeline {
    /// Runs a pipeline of `Result`s and returns the successes and the failures, each in output
    /// order. Failures are values here: the run only throws for a stage that is not on the railway
    /// (fail-fast), or `CancellationError`.
    ///
    /// ```swift
    /// let (rows, failures) = try await (Pipeline(urls)
    ///     | op.tryMap(fetch).named("fetch")
    ///     | op.thenMap(parse).named("parse")).partition()
    /// for (stage, failed) in Dictionary(grouping: failures, by: \.stage) {
    ///     print("\(stage): \(failed.count) failed")
    /// }
    /// ```
    ///
    /// - Parameter isolation: The caller's actor, inferred (`#isolation`); you never pass it.
    /// - Returns: The successes and the failures, each in output order.
    /// - Throws: A `StageFailure` from a stage that is not on the railway (or the source), or
    ///   `CancellationError` if the calling task was cancelled.
    public func partition<Success>(
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> (successes: [Success], failures: [StageFailure]) where Element == Result<Success, StageFailure> {
        try await execute { (out: RunOutput<Element>) in
            var successes: [Success] = []
            var failures: [StageFailure] = []
            var batch: [Element] = []
            while try await out.receive(into: &batch) {
                for item in batch {
                    switch item {
                    case .success(let value): successes.append(value)
                    case .failure(let failure): failures.append(failure)
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            return (successes, failures)
        }
    }
}
