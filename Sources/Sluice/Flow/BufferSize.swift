// `BufferSize`: a stage's output channel capacity, written as a literal or `.unbounded`.

/// The capacity of a stage's output channel.
///
/// ```swift
/// op.map(fetch).buffer(32)          // up to 32 finished items wait for the next stage
/// op.map(fetch).buffer(0)           // rendezvous: each hand-over waits for a taker
/// op.map(fetch).buffer(.unbounded)  // the one way to opt out of backpressure
/// ```
public struct BufferSize: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Items; `Int.max` means unbounded.
    public let capacity: Int

    /// A buffer of `capacity` items, for a capacity computed at run time (validated by
    /// `buffer(_:)`, which knows the stage's name: it must be `>= 0`).
    ///
    /// ```swift
    /// op.map(fetch).buffer(BufferSize(capacity: 4 * workers))
    /// ```
    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// A buffer written as an integer literal: `.buffer(32)`.
    public init(integerLiteral value: Int) {
        self.capacity = value
    }

    /// No bound: the producer never waits. Memory grows with whatever the consumer has not taken.
    public static let unbounded = BufferSize(capacity: .max)

    /// `32`, or `unbounded`.
    public var description: String { capacity == .max ? "unbounded" : "\(capacity)" }
}
