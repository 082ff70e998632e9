// `buffer(n, whenFull:)`: an opt-in buffer that drops instead of slowing the upstream down, with
// every drop counted in metrics and reported to `onDrop`.
import SluiceExecutor

/// What a buffer with a drop policy does with a new item when it is full.
///
/// ```swift
/// op.map(sample).buffer(64, whenFull: .dropOldest)   // keep the 64 newest readings
/// ```
public enum FullBufferPolicy: Sendable, Hashable {
    /// Drop the oldest waiting item to make room: the buffer keeps the newest items.
    case dropOldest
    /// Drop the new item: the buffer keeps the oldest items.
    case dropNewest
}

extension FlowComponent {
    /// Follows the stage with a buffer of `size` items that never makes it wait: when the next
    /// stage is slower and the buffer is full, an item is dropped, as `policy` says.
    ///
    /// ```swift
    /// let latest = Pipeline(sensor) | op.map(decode).buffer(64, whenFull: .dropOldest) | op.map(render)
    /// ```
    ///
    /// This is the one opt-out of backpressure besides `.buffer(.unbounded)`: drops are never
    /// silent. Each is counted in the metrics (`StageMetrics.dropped` of the `buffer` stage, and
    /// the progress line) and handed to `onDrop` if given. The buffer is a stage of its own (kind
    /// `buffer`, one worker) that reads its input as fast as it arrives; at most `size` items wait
    /// in it, plus the one being handed to the next stage.
    ///
    /// - Parameters:
    ///   - size: The most items waiting; at least 1 (a precondition).
    ///   - policy: Which item a full buffer drops.
    ///   - onDrop: Called with each dropped item, from the task reading the buffer's input; keep it
    ///     short (count or log).
    /// - Returns: This flow followed by the buffer stage.
    public func buffer(_ size: Int, whenFull policy: FullBufferPolicy, onDrop: (@Sendable (Output) -> Void)? = nil) -> Flow<Input, Output> {
        require(size >= 1, "buffer size must be >= 1 with a drop policy, got \(size) (stage 'buffer')")
        var node = StageNode(kind: .buffer, isSequential: true, body: DropBufferBody<Output>(size: size, policy: policy, onDrop: onDrop))
        node.parameters = "\(size), whenFull: \(policy)"
        return Flow(nodes: flow.nodes + [node])
    }
}

package struct DropBufferBody<A: Sendable>: TimedStageBody {
    package typealias Input = A
    package typealias Output = A
    let size: Int
    let policy: FullBufferPolicy
    let onDrop: (@Sendable (A) -> Void)?

    package var outputCapacity: Int? { 0 }
    package var inboxCapacity: Int? { size }

    package func makeTimedKernel(context: StageContext) -> TimedKernel<A, A> {
        TimedKernel(
            timeline: Timeline(ContinuousClock()), capacity: size,
            overflow: policy == .dropOldest ? .dropOldest : .dropNewest, onDrop: onDrop,
            receive: { x, _, output in output.append(x) })
    }
}
