// Builds a measured worker's asynchronous chain: `SinkComposer`'s chain with a counting wrapper in
// front of each stage. (Synchronous segments count per chunk: see `ChunkKernel.metered`.) Used
// only when the run is measured, so unmeasured runs keep the bare chain.
import Synchronization

extension WorkerProbe {
    /// The asynchronous chain of `nodes` in front of `tail`, counting each stage's inputs, the last
    /// stage's outputs and failures.
    package func async<In, Out>(_ nodes: [StageNode], tail: AsyncSink<Out>, context: StageContext, as: In.Type = In.self) -> AsyncSink<In> {
        let push = tail.push
        var sink: Any = AsyncSink<Out>(push: { [self] y in countOutputs(); try await push(y) }, finish: tail.finish)
        for (i, node) in nodes.enumerated().reversed() {
            var inner = context.child(node)
            inner.meter = stages[i]
            sink = node.body.meteredAsyncSink(sink, context: inner, probe: self)
        }
        return sink as! AsyncSink<In>
    }
}

extension StageBody {
    /// True when the stage's items may be railway failures: then failures it *produces* (from an
    /// input that was not already one) are counted as its failures.
    var carriesFailures: Bool { Output.self is any CarriesFailure.Type }

    func meteredAsyncSink(_ downstream: Any, context: StageContext, probe: WorkerProbe) -> Any {
        let counters = context.meter!, railway = carriesFailures, stop = context.stop
        var next = downstream as! AsyncSink<Output>
        if railway {
            let push = next.push
            next.push = { y in
                if Self.isProducedFailure(y, counters) { counters.countFailure() }
                try await push(y)
            }
        }
        let sink = makeAsyncSink(next, context: context)
        let push = sink.push
        return AsyncSink<Input>(
            push: { x in
                if stop.isSet { throw CancellationError() }
                counters.countInput()
                if railway { Self.notePassing(x, counters) }
                do { try await push(x) } catch { probe.sawError(error, in: counters); throw error }
            },
            finish: sink.finish)
    }

    private static func notePassing(_ x: Input, _ counters: StageCounters) {
        counters.passing.store((x as? any CarriesFailure)?.carriedFailure != nil, ordering: .relaxed)
    }

    private static func isProducedFailure(_ y: Output, _ counters: StageCounters) -> Bool {
        !counters.passing.load(ordering: .relaxed) && (y as? any CarriesFailure)?.carriedFailure != nil
    }
}
