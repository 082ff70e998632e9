// Fan-in sources: merge (completion order), concat (one after another), zip (pairs).
//
// Each input is a whole pipeline run as a run of its own (`Runner.run`) inside a child task of the
// fan-in source's task: structured, cancelled with the run, never read past what fits downstream.

/// Several inputs read at the same time; items leave in the order they arrive. Ends when every
/// input has ended; the first input to fail fails the source (the other inputs are cancelled).
package struct MergeSource<Element: Sendable>: DrivingSource {
    package var inputs: [SubPipeline]

    package init(inputs: [SubPipeline]) { self.inputs = inputs }

    package func mappingInputs(_ transform: (SubPipeline) -> SubPipeline) -> Self { Self(inputs: inputs.map(transform)) }

    package var shapeName: String { "merge" }
    package var heldBound: Int { saturatingSum(inputs.map(\.bound)) }

    package func drive(into output: Channel<Element>, stop: StopSignal) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for input in inputs {
                group.addTask {
                    try await input.run(as: Element.self) { batch in try await output.send(&batch) }
                    return true
                }
            }
            // The run stopped (or a stage downstream failed): cancel every input at once, even one
            // waiting on its own source.
            group.addTask {
                await stop.wait()
                throw CancellationError()
            }
            var remaining = inputs.count
            do {
                while remaining > 0, let ended = try await group.next() {
                    if ended { remaining -= 1 }
                }
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}

/// Inputs read one after another: all of the first input's items, then the second's, … A failing
/// input fails the source after its prefix; the later inputs are never started.
package struct ConcatSource<Element: Sendable>: DrivingSource {
    package var inputs: [SubPipeline]

    package init(inputs: [SubPipeline]) { self.inputs = inputs }

    package func mappingInputs(_ transform: (SubPipeline) -> SubPipeline) -> Self { Self(inputs: inputs.map(transform)) }

    package var shapeName: String { "concat" }
    /// One input runs at a time.
    package var heldBound: Int { inputs.map(\.bound).max() ?? 0 }

    package func drive(into output: Channel<Element>, stop: StopSignal) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for input in inputs {
                    if stop.isSet { throw CancellationError() }
                    try await input.run(as: Element.self) { batch in try await output.send(&batch) }
                }
                return true
            }
            group.addTask {
                await stop.wait()
                throw CancellationError()
            }
            do {
                while let done = try await group.next(), !done {}
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}

/// Two inputs read at the same time and paired in order: the first item of each, then the second of
/// each, … Ends as soon as either input ends (the other is cancelled); an input's failure fails
/// the source after the pairs made before it.
package struct ZipSource<A: Sendable, B: Sendable>: DrivingSource {
    package typealias Element = (A, B)
    package var first: SubPipeline
    package var second: SubPipeline

    package init(_ first: SubPipeline, _ second: SubPipeline) {
        self.first = first
        self.second = second
    }

    package var shapeName: String { "zip" }
    package var inputs: [SubPipeline] { [first, second] }

    package func mappingInputs(_ transform: (SubPipeline) -> SubPipeline) -> Self {
        var changed = self
        changed.first = transform(first)
        changed.second = transform(second)
        return changed
    }

    /// Items each input may hand over ahead of its partner.
    static var lookahead: Int { 64 }

    package var heldBound: Int { saturatingSum([first.bound, second.bound, 4 * Self.lookahead]) }

    package func drive(into output: Channel<(A, B)>, stop: StopSignal) async throws {
        let left = Channel<A>(capacity: Self.lookahead)
        let right = Channel<B>(capacity: Self.lookahead)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await Self.forward(first, into: left) }
            group.addTask { await Self.forward(second, into: right) }
            group.addTask {
                await stop.wait()
                left.cancel()
                right.cancel()
            }
            defer { group.cancelAll() }
            var a: [A] = [], b: [B] = [], ia = 0, ib = 0
            var pairs: [(A, B)] = []
            pairs.reserveCapacity(Self.lookahead)
            while true {
                if ia == a.count {
                    a.removeAll(keepingCapacity: true)
                    ia = 0
                    if !pairs.isEmpty { try await output.send(&pairs) }
                    guard try await left.receive(into: &a, limit: Self.lookahead) != nil else { break }
                }
                if ib == b.count {
                    b.removeAll(keepingCapacity: true)
                    ib = 0
                    if !pairs.isEmpty { try await output.send(&pairs) }
                    guard try await right.receive(into: &b, limit: Self.lookahead) != nil else { break }
                }
                let n = Swift.min(a.count - ia, b.count - ib)
                for k in 0..<n { pairs.append((a[ia + k], b[ib + k])) }
                ia += n
                ib += n
                if pairs.count >= Self.lookahead { try await output.send(&pairs) }
            }
            try await output.send(&pairs)
        }
    }

    /// Runs `input` into `channel`, ending it with the input's end or failure.
    private static func forward<E: Sendable>(_ input: SubPipeline, into channel: Channel<E>) async {
        do {
            try await input.run(as: E.self) { batch in try await channel.send(&batch) }
            channel.finish()
        } catch {
            channel.finish(failure: error)
        }
    }
}
