// The body of the stream operators (`scan`, `prefix`, `dropFirst`, `drop(while:)`, `distinct`):
// a sequential stage whose only form is its specialized chunk kernel.
import SluiceExecutor

/// A synchronous stage that keeps state across items: one worker, at most one output per input
/// (so it may be fused), built from a kernel factory specialized where the stage was written.
package struct SequentialBody<A: Sendable, B: Sendable>: StageBody {
    package var kernel: @Sendable (StageContext) -> ChunkKernel<A, B>

    package init(kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, B>) {
        self.kernel = kernel
    }

    package var isFusible: Bool { true }

    /// A fresh kernel (fresh state) for each run.
    package func makeKernel(context: StageContext) -> ChunkKernel<A, B>? {
        kernel(context)
    }
}

/// A one-stage sequential flow of `kind` with its specialized kernel.
package func sequentialFlow<A: Sendable, B: Sendable>(_ kind: StageKind, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, B>) -> Flow<A, B> {
    Flow(StageNode(kind: kind, isSequential: true, body: SequentialBody(kernel: kernel)))
}
