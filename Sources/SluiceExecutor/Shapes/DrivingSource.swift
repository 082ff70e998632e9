// A source that pushes into the run's first channel itself: the fan-in sources (merge, concat, zip),
// which read several sub-pipelines at once in child tasks of the source task.

/// A source that drives its own reading. The source task calls `drive` instead of reading a cursor:
/// it sends every item into `output` and returns at the end (the source task then ends the channel),
/// or throws (the channel ends with that failure after the items already sent).
///
/// Whatever tasks `drive` starts must be children of the calling task (a task group inside
/// `drive`), so that they end before it returns: the run stays structured.
package protocol DrivingSource: SourceBody {
    /// Reads the source into `output` until it ends. Must return promptly (throwing
    /// `CancellationError`) once `stop` is set; may `await stop.wait()` (it is the only waiter).
    func drive(into output: Channel<Element>, stop: StopSignal) async throws
    /// The most items the source itself may hold (its sub-pipelines and their hand-over batches),
    /// added to the pipeline's memory bound.
    var heldBound: Int { get }
    /// `merge`, `concat` or `zip`, for diagrams.
    var shapeName: String { get }
    /// The inputs, for diagrams and bounds.
    var inputs: [SubPipeline] { get }
    /// The same source with each input changed by `transform` (e.g. made to obey a graceful stop).
    func mappingInputs(_ transform: (SubPipeline) -> SubPipeline) -> Self
}

extension DrivingSource {
    /// A driving source is never read through a cursor.
    package func open(stop: StopSignal) async throws -> SourceCursor<Element> {
        preconditionFailure("a driving source is read by `drive`")
    }

    package var isSynchronous: Bool { false }

    package func driveErased<E>(into output: Channel<E>, stop: StopSignal) async throws {
        try await drive(into: output as! Channel<Element>, stop: stop)
    }
}

/// One input of a fan-in source: a whole pipeline (its source and its stages), run as a run of
/// its own inside the fan-in source's task.
package struct SubPipeline: Sendable {
    package var source: any SourceBody
    package var nodes: [StageNode]
    package var options: RunOptions

    package init(source: any SourceBody, nodes: [StageNode], options: RunOptions = RunOptions()) {
        self.source = source
        self.nodes = nodes
        self.options = options
    }

    /// The most items this input holds while it runs: its own memory bound (which includes the
    /// batch its consumer — the fan-in reader — has in hand).
    package var bound: Int {
        let own = Plan(nodes: nodes, synchronousSource: source.isSynchronous).inFlightBound
        let held = (source as? any DrivingSource)?.heldBound ?? 0
        let (sum, overflow) = own.addingReportingOverflow(held)
        return overflow ? .max : sum
    }

    /// Runs the input to its end, handing every batch of outputs to `deliver`.
    package func run<Element: Sendable>(as: Element.Type, deliver: (inout [Element]) async throws -> Void) async throws {
        try await Runner.run(source: source, nodes: nodes, options: options) { (out: RunOutput<Element>) in
            var batch: [Element] = []
            while try await out.receive(into: &batch) {
                try await deliver(&batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }
}

/// Adds bounds, saturating at `Int.max`.
func saturatingSum(_ values: [Int]) -> Int {
    values.reduce(0) { total, x in
        let (sum, overflow) = total.addingReportingOverflow(x)
        return overflow ? .max : sum
    }
}
