// How the resilience modifiers attach to a stage: they wrap its body in a `PolicyBody` (once) and
// add a layer or an observer to it.
import SluiceExecutor

extension FlowComponent {
    /// Applies `change` to the stage's policies; `modifier` names the modifier in error messages.
    /// Stages that group consecutive items (`batch`) have no per-item call to wrap.
    func modifyingPolicies(_ modifier: String, _ change: (inout PolicyBody<Input, Output>, _ stage: String) -> Void) -> Flow<Input, Output> {
        flow.modifyingStage { node in
            // `partitioned(by:)`: the policies wrap the stage it runs on each item.
            if var wrapper = node.body as? any WrapsStage {
                wrapper.inner = Flow<Input, Output>(wrapper.inner).modifyingPolicies(modifier, change).nodes[0]
                node.body = wrapper
                return
            }
            require(!node.isSequential,
                    "\(modifier) cannot apply to stage '\(node.name)': it groups consecutive items, there is no per-item call to wrap")
            require(!(node.body is any LaunchingBody),
                    "\(modifier) cannot apply to stage '\(node.name)' (\(node.kind)): handle it inside the expansion's step")
            var body = node.body as? PolicyBody<Input, Output>
                ?? PolicyBody(inner: node.body, railway: RailwayAdapter(kind: node.kind))
            change(&body, node.name)
            node.body = body
        }
    }
}
