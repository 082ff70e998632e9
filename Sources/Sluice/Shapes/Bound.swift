// The memory bound of a pipeline with graph shapes: the plan's bound plus what the shapes hold.
import SluiceExecutor

extension Pipeline {
    /// `Plan.inFlightBound`, plus the items a fan-in source's inputs hold and the queues of
    /// `partitioned` and `expand` stages.
    var boundWithShapes: Int {
        let plan = Plan(nodes: nodes, synchronousSource: source.isSynchronous, weighedSource: options.sourceWeight != nil)
        var parts = [plan.inFlightBound]
        if let driving = source as? any DrivingSource { parts.append(driving.heldBound) }
        for segment in plan.segments where segment.nodes.count == 1 {
            if let launching = segment.nodes[0].body as? any LaunchingBody {
                parts.append(launching.heldBound(workers: segment.workers))
            }
        }
        return parts.reduce(0) { total, x in
            let (sum, overflow) = total.addingReportingOverflow(x)
            return overflow ? .max : sum
        }
    }
}
