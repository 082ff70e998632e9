// The three kinds of source a pipeline can start from, as executor source bodies.
import SluiceExecutor

/// Any `Sequence`: read in chunks by a closure built where the sequence's type is concrete, so the
/// per-item loop is specialized. Iterated afresh at every run.
struct SequenceSource<Element: Sendable>: SourceBody {
    /// Makes a fresh chunk reader (one per run).
    let makeReader: @Sendable (StopSignal) -> (inout [Element], Int) -> Bool

    var isSynchronous: Bool { true }

    func open(stop: StopSignal) async throws -> SourceCursor<Element> {
        .sync(makeReader(stop))
    }
}

/// Builds chunk readers in the caller's module (inlined there, so specialized).
@usableFromInline
package enum ChunkReaders {
    /// A factory of readers that append up to `limit` items per call and return `false` once the
    /// sequence is exhausted.
    @inlinable
    package static func reading<S: Sequence & Sendable>(_ sequence: S) -> @Sendable (StopSignal) -> (inout [S.Element], Int) -> Bool {
        { stop in
            var iterator = sequence.makeIterator()
            return { buffer, limit in
                var n = 0
                // Not one more item once the run must stop.
                while n < limit && !stop.isSet {
                    guard let x = iterator.next() else { return false }
                    buffer.append(x)
                    n += 1
                }
                return true
            }
        }
    }
}

/// A closure run at each execution, returning the sequence to read.
struct DeferredSource<S: Sequence & SendableMetatype>: SourceBody where S.Element: Sendable {
    let make: @Sendable () async throws -> S
    var isSynchronous: Bool { true }

    func open(stop: StopSignal) async throws -> SourceCursor<S.Element> {
        let reader = IteratorReader(try await make().makeIterator(), stop: stop)
        return .sync { buffer, limit in reader.read(into: &buffer, limit: limit) }
    }
}

/// Any `AsyncSequence`: read item by item in the source's own task.
struct AsyncSequenceSource<S: AsyncSequence & Sendable>: SourceBody where S.Element: Sendable {
    let sequence: S
    var isSynchronous: Bool { false }

    func open(stop: StopSignal) async throws -> SourceCursor<S.Element> {
        let reader = AsyncIteratorReader(sequence.makeAsyncIterator())
        return .async { try await reader.next() }
    }
}

/// A closure run at each execution, returning the async sequence to read (item by item, in the
/// source's own task).
struct DeferredAsyncSource<S: AsyncSequence & SendableMetatype>: SourceBody where S.Element: Sendable {
    let make: @Sendable () async throws -> S
    var isSynchronous: Bool { false }

    func open(stop: StopSignal) async throws -> SourceCursor<S.Element> {
        let reader = AsyncIteratorReader(try await make().makeAsyncIterator())
        return .async { try await reader.next() }
    }
}

/// A source that tells a run's watch each time items are read from it (for `idleTimeout`).
struct WatchedSource<Base: SourceBody>: SourceBody {
    let base: Base
    let watch: RunWatch
    var isSynchronous: Bool { base.isSynchronous }

    func open(stop: StopSignal) async throws -> SourceCursor<Base.Element> {
        let watch = watch
        switch try await base.open(stop: stop) {
        case .sync(let read):
            return .sync { buffer, limit in
                let before = buffer.count
                defer { if buffer.count > before { watch.noteActivity() } }
                return try read(&buffer, limit)
            }
        case .async(let next):
            return .async {
                let x = try await next()
                if x != nil { watch.noteActivity() }
                return x
            }
        }
    }
}

/// `source`, noting its reads on `watch`.
func watched(_ source: some SourceBody, by watch: RunWatch) -> any SourceBody {
    WatchedSource(base: source, watch: watch)
}
