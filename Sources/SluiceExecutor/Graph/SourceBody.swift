// A pipeline's source, erased: a sync sequence read in chunks, or an async sequence read item by item.

/// How a worker or the source task reads a source during one run.
package enum SourceCursor<Element> {
    /// Appends up to `limit` items; returns `false` once the source is exhausted.
    case sync((inout [Element], Int) throws -> Bool)
    /// The next item, or `nil` at the end.
    case async(() async throws -> Element?)
}

/// A source description. `open()` is called once per run, inside the task that reads it.
package protocol SourceBody: Sendable {
    associatedtype Element: Sendable
    /// True if `open()` returns a `.sync` cursor: the planner may then read the source inside the
    /// first stage's task.
    var isSynchronous: Bool { get }
    func open() async throws -> SourceCursor<Element>
}

extension SourceBody {
    package func openErased<E>(as: E.Type) async throws -> SourceCursor<E> {
        try await open() as! SourceCursor<E>
    }
}

/// Reads any `Sequence` in chunks, with the iterator's type known (no per-item dynamic dispatch).
package final class IteratorReader<Iterator: IteratorProtocol> {
    private var iterator: Iterator
    package init(_ iterator: Iterator) { self.iterator = iterator }

    package func read(into buffer: inout [Iterator.Element], limit: Int) -> Bool {
        var n = 0
        while n < limit {
            guard let x = iterator.next() else { return false }
            buffer.append(x)
            n += 1
        }
        return true
    }
}

/// Reads an `AsyncSequence` one item at a time.
package final class AsyncIteratorReader<Iterator: AsyncIteratorProtocol> {
    private var iterator: Iterator
    package init(_ iterator: Iterator) { self.iterator = iterator }

    package func next() async throws -> Iterator.Element? {
        try await iterator.next()
    }
}
