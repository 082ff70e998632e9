// The public vocabulary of acknowledged sources: a delivery, what became of it, and a batch of
// acknowledgements.
import SluiceExecutor

/// An item of an acknowledged source: the identity the pipeline acknowledges, and the value the
/// stages see.
///
/// ```swift
/// let jobs = [Delivery(id: 1, element: "resize a.png"), Delivery(id: 2, element: "resize b.png")]
/// ```
public struct Delivery<ID: Sendable, Element: Sendable>: Sendable {
    /// What the acknowledgement names: a message id, a row key, an offset.
    public var id: ID
    /// The value the pipeline's stages receive.
    public var element: Element

    /// A delivery of `element`, acknowledged as `id`.
    ///
    /// ```swift
    /// Delivery(id: 42, element: job)
    /// ```
    public init(id: ID, element: Element) {
        self.id = id
        self.element = element
    }
}

extension Delivery: Equatable where ID: Equatable, Element: Equatable {}
extension Delivery: Hashable where ID: Hashable, Element: Hashable {}

/// What became of a source item and of everything derived from it.
///
/// ```swift
/// switch ack.outcome {
/// case .completed: markDone(ack.id)
/// case .failed(let failure): markFailed(ack.id, reason: failure.description)
/// }
/// ```
public enum AckOutcome: Sendable {
    /// Every item derived from it left the pipeline: consumed by the terminal, dropped by a
    /// filter, or part of a batch that was consumed.
    case completed
    /// An item derived from it ended as a railway failure value (a `.failure` of `op.tryMap` and
    /// the other railway stages): consumed by the terminal, dropped (`op.successes()`, a filter),
    /// or gathered into a batch. The first such failure.
    case failed(StageFailure)

    /// True for `.completed`.
    ///
    /// ```swift
    /// let done = batch.acknowledgements.filter(\.outcome.isCompleted)
    /// ```
    public var isCompleted: Bool {
        if case .completed = self { true } else { false }
    }
}

/// The acknowledgement of one source item.
///
/// ```swift
/// for ack in batch.acknowledgements where !ack.outcome.isCompleted { print("failed:", ack.id) }
/// ```
public struct Acknowledgement<ID: Sendable>: Sendable {
    /// The item's id, as its `Delivery` carried it.
    public var id: ID
    /// Completed, or failed with the failure a railway stage recorded.
    public var outcome: AckOutcome

    /// An acknowledgement (made by the pipeline; public for tests of acknowledging code).
    ///
    /// ```swift
    /// Acknowledgement(id: 7, outcome: .completed)
    /// ```
    public init(id: ID, outcome: AckOutcome) {
        self.id = id
        self.outcome = outcome
    }
}

/// The acknowledgements one call of an acknowledged pipeline's `acknowledge` closure receives.
///
/// ```swift
/// acknowledge: { batch in
///     try await queue.markDone(batch.acknowledgements.map(\.id))
///     if let offset = batch.completedThrough { try await consumer.commit(offset) }
/// }
/// ```
public struct AckBatch<ID: Sendable>: Sendable {
    /// The items completed since the previous batch, in the order they completed (at least one,
    /// unless only `completedThrough` advanced).
    public var acknowledgements: [Acknowledgement<ID>]
    /// Every item the source delivered up to and including this one (in delivery order) is now
    /// complete: what an offset-style source commits. `nil` when it did not advance since the
    /// previous batch. In an ordered pipeline items complete in delivery order, so it follows
    /// the acknowledgements closely; an unordered stage or a failure that is never completed
    /// (a run that failed) holds it back.
    public var completedThrough: ID?

    /// A batch (made by the pipeline; public for tests of acknowledging code).
    ///
    /// ```swift
    /// AckBatch(acknowledgements: [Acknowledgement(id: 1, outcome: .completed)], completedThrough: 1)
    /// ```
    public init(acknowledgements: [Acknowledgement<ID>], completedThrough: ID?) {
        self.acknowledgements = acknowledgements
        self.completedThrough = completedThrough
    }
}
