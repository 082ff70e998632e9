// The one error type a failing stage produces, in fail-fast runs and on the railway.

/// A failure inside a stage: which stage, which item, what went wrong, after how many attempts.
///
/// A fail-fast run throws the first `StageFailure`; a railway stage turns it into a value.
///
/// ```swift
/// do {
///     _ = try await (Pipeline([1, 2, 3]) | op.map(parse).named("parse")).collect()
/// } catch let failure as StageFailure {
///     print(failure)              // [parse] item 2: invalid digit
///     print(failure.underlying)   // the error `parse` threw
/// }
/// ```
public struct StageFailure: Error, Sendable, CustomStringConvertible {
    /// The fields, in one immutable object: a failure is a single reference, so a railway value
    /// (`Result<Output, StageFailure>`) is barely larger than its output (16 bytes for an `Int`
    /// output instead of 80) and cheap to move through channels. Setting a field replaces it.
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let stage: String
        @usableFromInline let item: (any Sendable)?
        @usableFromInline let underlying: any Error
        @usableFromInline let attempts: Int

        @inlinable
        init(stage: String, item: (any Sendable)?, underlying: any Error, attempts: Int) {
            self.stage = stage
            self.item = item
            self.underlying = underlying
            self.attempts = attempts
        }
    }

    @usableFromInline var storage: Storage

    /// The name of the stage that failed (`"source"` for the source).
    public var stage: String {
        get { storage.stage }
        set { storage = Storage(stage: newValue, item: item, underlying: underlying, attempts: attempts) }
    }
    /// The input item the stage was working on; `nil` when the failure is not about one item
    /// (the source, or a stage's setup).
    public var item: (any Sendable)? {
        get { storage.item }
        set { storage = Storage(stage: stage, item: newValue, underlying: underlying, attempts: attempts) }
    }
    /// The error the stage threw.
    public var underlying: any Error {
        get { storage.underlying }
        set { storage = Storage(stage: stage, item: item, underlying: newValue, attempts: attempts) }
    }
    /// How many attempts were made on the item (1 without retries).
    public var attempts: Int {
        get { storage.attempts }
        set { storage = Storage(stage: stage, item: item, underlying: underlying, attempts: newValue) }
    }

    /// Creates a failure record.
    ///
    /// ```swift
    /// let failure = StageFailure(stage: "fetch", item: 42, underlying: URLError(.timedOut))
    /// ```
    @inlinable
    public init(stage: String, item: (any Sendable)?, underlying: any Error, attempts: Int = 1) {
        storage = Storage(stage: stage, item: item, underlying: underlying, attempts: attempts)
    }

    /// `[stage] item <item>: <underlying>`, for example `[fetch] item 42: timed out`.
    public var description: String {
        let what = item.map { "item \($0)" } ?? "failed"
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        return "[\(stage)] \(what)\(tries): \(underlying)"
    }
}

extension StageFailure {
    /// Wraps an error thrown by the stage `stage` while it processed `item`.
    /// Cancellation is not a failure: `CancellationError` is passed through unchanged.
    @inlinable
    package static func wrap(_ error: any Error, stage: String, item: (any Sendable)?) -> any Error {
        if error is CancellationError { return error }
        return StageFailure(stage: stage, item: item, underlying: error)
    }
}
