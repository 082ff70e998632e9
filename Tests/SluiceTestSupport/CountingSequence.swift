// Sources that count how many items they have given out (for bound and cancellation tests).

/// `0..<count` (or endless, with `count == nil`) that counts every item handed out.
public struct CountingSequence: Sequence, Sendable {
    public let count: Int?
    public let pulled: Counter

    public init(count: Int?, pulled: Counter = Counter()) {
        self.count = count
        self.pulled = pulled
    }

    public struct Iterator: IteratorProtocol {
        var position = 0
        let count: Int?
        let pulled: Counter

        public mutating func next() -> Int? {
            if let count, position >= count { return nil }
            defer { position += 1 }
            pulled.increment()
            return position
        }
    }

    public func makeIterator() -> Iterator { Iterator(count: count, pulled: pulled) }
}

/// The same as an `AsyncSequence`, optionally throwing `error` at item `failAt`.
public struct CountingAsyncSequence: AsyncSequence, Sendable {
    public typealias Element = Int
    public let count: Int?
    public let pulled: Counter
    public let failAt: Int?

    public init(count: Int?, pulled: Counter = Counter(), failAt: Int? = nil) {
        self.count = count
        self.pulled = pulled
        self.failAt = failAt
    }

    public struct SourceError: Error, Equatable {}

    public struct AsyncIterator: AsyncIteratorProtocol {
        var position = 0
        let count: Int?
        let pulled: Counter
        let failAt: Int?

        public mutating func next() async throws -> Int? {
            if let count, position >= count { return nil }
            if position == failAt { throw SourceError() }
            defer { position += 1 }
            pulled.increment()
            return position
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(count: count, pulled: pulled, failAt: failAt)
    }
}
