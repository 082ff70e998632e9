// Re-exports the executor's error type: users `import Sluice` and catch `StageFailure`.
@_exported import struct SluiceExecutor.StageFailure
@_exported import struct SluiceExecutor.PipelineTimeout

extension StageFailure {
    /// The item the stage failed on, as `type`; `nil` when there is no item (the source, a
    /// stage's setup) or it is of another type.
    ///
    /// ```swift
    /// for failure in try await (Pipeline(urls) | op.tryMap(fetch) | op.failures()).collect() {
    ///     if let url = failure.item(as: URL.self) { retryLater(url) }
    /// }
    /// ```
    ///
    /// - Parameter type: The stage's input type.
    /// - Returns: The item, or `nil`.
    public func item<T>(as type: T.Type) -> T? {
        item as? T
    }
}
