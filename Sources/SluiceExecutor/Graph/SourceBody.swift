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
    /// Opens the source for one run. A synchronous cursor checks `stop` before every item it
    /// reads, so the source is not read once the run (or the reading worker) must stop.
    func open(stop: StopSignal) async throws -> SourceCursor<Element>
}

extension SourceBody {
    package func openErased<E>(as: E.Type, stop: StopSignal) async throws -> SourceCursor<E> {
        try await open(stop: stop) as! SourceCursor<E>
    }
}

/// Reads any `Sequence` in chunks, with the iterator's type known (no per-item dynamic dispatch).
package final class IteratorReader<Iterator: IteratorProtocol> {
    private var iterator: Iterator
    private let stop: StopSignal
    package init(_ iterator: Iterator, stop: StopSignal) {
        self.iterator = iterator
        self.stop = stop
    }

    package func read(into buffer: inout [Iterator.Element], limit: Int) -> Bool {
        var n = 0
        while n < limit && !stop.isSet {
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
