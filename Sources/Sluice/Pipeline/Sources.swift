// The three kinds of source a pipeline can start from, as executor source bodies.
import SluiceExecutor

/// Any `Sequence`: read in chunks; iterated afresh at every run.
struct SequenceSource<S: Sequence & Sendable>: SourceBody where S.Element: Sendable {
    let sequence: S
    var isSynchronous: Bool { true }

    func open() async throws -> SourceCursor<S.Element> {
        let reader = IteratorReader(sequence.makeIterator())
        return .sync { buffer, limit in reader.read(into: &buffer, limit: limit) }
    }
}

/// A closure run at each execution, returning the sequence to read.
struct DeferredSource<S: Sequence & SendableMetatype>: SourceBody where S.Element: Sendable {
    let make: @Sendable () async throws -> S
    var isSynchronous: Bool { true }

    func open() async throws -> SourceCursor<S.Element> {
        let reader = IteratorReader(try await make().makeIterator())
        return .sync { buffer, limit in reader.read(into: &buffer, limit: limit) }
    }
}

/// Any `AsyncSequence`: read item by item in the source's own task.
struct AsyncSequenceSource<S: AsyncSequence & Sendable>: SourceBody where S.Element: Sendable {
    let sequence: S
    var isSynchronous: Bool { false }

    func open() async throws -> SourceCursor<S.Element> {
        let reader = AsyncIteratorReader(sequence.makeAsyncIterator())
        return .async { try await reader.next() }
    }
}
