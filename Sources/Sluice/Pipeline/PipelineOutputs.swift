// `open`: the structured way to iterate a pipeline — the run ends before `open` returns.
import SluiceExecutor

extension Pipeline {
    /// Runs the pipeline and gives `body` its outputs to iterate; returns only after every task of
    /// the run has ended.
    ///
    /// A bare `for try await` loop cannot wait for the run when it exits early; `open` can. When
    /// `body` returns or throws (after a `break`, or having read everything), the run is stopped
    /// and awaited: no stage body is running and the source is not read once `open` returns.
    ///
    /// ```swift
    /// let firstBig = try await (Pipeline(ids) | op.map(load).workers(4)).open { records in
    ///     for try await record in records where record.size > 1_000 { return record }
    ///     return nil
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - isolation: the actor `body` runs on (the caller's, by default).
    ///   - body: reads the outputs; it must not keep `outputs` after it returns.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws; a stage's `StageFailure` (after the outputs of every item
    ///   before it) when `body` reads past it; `CancellationError` if the caller is cancelled.
    public func open<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Outputs) async throws -> Result
    ) async throws -> Result {
        try await execute { (out: RunOutput<Element>) in
            try await body(Outputs(output: out))
        }
    }

    /// A pipeline run's outputs, read inside ``Pipeline/open(isolation:_:)``.
    ///
    /// ```swift
    /// try await pipeline.open { outputs in
    ///     for try await x in outputs { print(x) }
    /// }
    /// ```
    public struct Outputs: AsyncSequence {
        /// A run can fail with any error: a `StageFailure`, or `CancellationError`.
        public typealias Failure = any Error

        let output: RunOutput<Element>

        /// An iterator over the run's outputs (several iterators share them).
        public func makeAsyncIterator() -> Iterator {
            Iterator(output: output)
        }

        /// Reads the run's outputs in batches, one at a time.
        public struct Iterator: AsyncIteratorProtocol {
            let output: RunOutput<Element>
            var buffer: [Element] = []
            var index = 0
            var ended = false

            /// The next output, `nil` at the end.
            ///
            /// - Throws: the run's `StageFailure` after the outputs before it, or
            ///   `CancellationError`.
            public mutating func next() async throws -> Element? {
                // A cancelled caller gets no more items, even those already received in a batch.
                if Task.isCancelled && !ended {
                    output.run.stop()
                    throw CancellationError()
                }
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                if ended { return nil }
                buffer.removeAll(keepingCapacity: true)
                index = 0
                guard try await output.receive(into: &buffer) else {
                    ended = true
                    return nil
                }
                index = 1
                return buffer[0]
            }
        }
    }
}

@available(*, unavailable, message: "a pipeline's outputs are read inside `open`")
extension Pipeline.Outputs: Sendable {}

@available(*, unavailable, message: "a pipeline's outputs are read inside `open`")
extension Pipeline.Outputs.Iterator: Sendable {}
