// A synchronous stage's work on a whole chunk at a time: the executor's fast path.

/// Processes a chunk of inputs in one call, appending the outputs.
///
/// Kernels are built where a stage's element types are concrete (in `@inlinable` constructors), so
/// their per-item loops are specialized: no generic dispatch or metadata lookup per item. The
/// executor composes the kernels of a fused segment once per worker; between kernels, only
/// per-chunk work is generic.
@usableFromInline
package struct ChunkKernel<Input, Output> {
    /// Consumes every item of `input` (the caller empties it afterwards), appending to `output`.
    @usableFromInline package var process: (inout [Input], inout [Output]) throws -> Void
    /// The input has ended: append what is left (e.g. a partial batch).
    @usableFromInline package var finish: (inout [Output]) throws -> Void

    @inlinable
    package init(process: @escaping (inout [Input], inout [Output]) throws -> Void,
                 finish: @escaping (inout [Output]) throws -> Void = { _ in }) {
        self.process = process
        self.finish = finish
    }

    /// `self` then `next`, with one reused intermediate buffer.
    package func then<Next>(_ next: ChunkKernel<Output, Next>) -> ChunkKernel<Input, Next> {
        let middle = Box<[Output]>([])
        let first = self
        return ChunkKernel<Input, Next>(
            process: { input, output in
                try first.process(&input, &middle.value)
                try next.process(&middle.value, &output)
                middle.value.removeAll(keepingCapacity: true)
            },
            finish: { output in
                try first.finish(&middle.value)
                try next.process(&middle.value, &output)
                middle.value.removeAll(keepingCapacity: true)
                try next.finish(&output)
            })
    }
}

extension StageBody {
    /// This stage's kernel, erased (one cast per worker, at plan time).
    package func erasedKernel(context: StageContext) -> Any? {
        makeKernel(context: context)
    }

    /// This stage's kernel followed by `rest` (a `ChunkKernel<Output, Final>` erased as `Any`).
    package func erasedKernel<Final>(before rest: Any, final: Final.Type, context: StageContext) -> Any? {
        guard let mine = makeKernel(context: context) else { return nil }
        return mine.then(rest as! ChunkKernel<Output, Final>)
    }
}

extension SinkComposer {
    /// The composed kernel of `nodes` (`nil` if one of them has none).
    package static func kernel<In, Out>(_ nodes: [StageNode], run: RunState, scope: WorkerScope, prefix: String? = nil, as: (In.Type, Out.Type) = (In.self, Out.self)) -> ChunkKernel<In, Out>? {
        guard let last = nodes.last else { return nil }
        func context(_ node: StageNode) -> StageContext {
            StageContext(name: qualified(node.name, prefix), run: run, scope: scope)
        }
        guard var kernel = last.body.erasedKernel(context: context(last)) else { return nil }
        for node in nodes.dropLast().reversed() {
            guard let k = node.body.erasedKernel(before: kernel, final: Out.self, context: context(node)) else { return nil }
            kernel = k
        }
        return kernel as? ChunkKernel<In, Out>
    }
}
