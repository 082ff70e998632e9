// `op.compactMap` and `CompactMap`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// One output per input, or none when `transform` returns nil.
    ///
    /// ```swift
    /// op.compactMap { (s: String) in Int(s) }
    /// ```
    ///
    /// - Parameter transform: Called once per item; `nil` drops it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `compactMap`.
    @inlinable
    public static func compactMap<A, B>(_ transform: @escaping @Sendable (A) throws -> B?) -> Flow<A, B> {
        compactMapFlow(transform, kernel: Kernels.compactMap(transform))
    }

    /// One output per input, or none when the asynchronous `transform` returns nil.
    ///
    /// ```swift
    /// op.compactMap { (id: Int) in try await lookup(id) }
    /// ```
    ///
    /// - Parameter transform: Called once per item; `nil` drops it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `compactMap`.
    public static func compactMap<A, B>(_ transform: @escaping @Sendable (A) async throws -> B?) -> Flow<A, B> {
        Flow(.compactMap(Transform.async(transform)))
    }
}

/// One output per input, or none when the transform returns nil (same stage as `op.compactMap`).
///
/// ```swift
/// Flow<String, Int> { CompactMap { Int($0) } }
/// ```
public struct CompactMap<Input: Sendable, Output: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Output>

    /// A `compactMap` stage with a synchronous transform.
    ///
    /// ```swift
    /// CompactMap { (s: String) in Int(s) }
    /// ```
    ///
    /// - Parameter transform: Called once per item; `nil` drops it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ transform: @escaping @Sendable (Input) throws -> Output?) {
        flow = op.compactMap(transform)
    }

    /// A `compactMap` stage with an asynchronous transform.
    ///
    /// ```swift
    /// CompactMap { (id: Int) in try await lookup(id) }
    /// ```
    ///
    /// - Parameter transform: Called once per item; `nil` drops it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    public init(_ transform: @escaping @Sendable (Input) async throws -> Output?) {
        flow = op.compactMap(transform)
    }
}

package struct CompactMapBody<A: Sendable, B: Sendable>: StageBody {
    package var transform: Transform<A, B?>
    package var kernel: (@Sendable (StageContext) -> ChunkKernel<A, B>)?

    package init(transform: Transform<A, B?>, kernel: (@Sendable (StageContext) -> ChunkKernel<A, B>)? = nil) {
        self.transform = transform
        self.kernel = kernel
    }

    package var isFusible: Bool { transform.isSync }

    /// The specialized kernel when the stage was built with a concrete closure type, else a
    /// generic one (a stage built inside the library, e.g. by the railway).
    package func makeKernel(context: StageContext) -> ChunkKernel<A, B>? {
        if let kernel { return kernel(context) }
        return transform.sync.map { Kernels.compactMap($0)(context) }
    }

    package func makeAsyncSink(_ downstream: AsyncSink<B>, context: StageContext) -> AsyncSink<A> {
        let t = transform, name = context.name, push = downstream.push
        return AsyncSink(push: { x in if let y = try await t.callAsync(x, stage: name) { try await push(y) } }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func compactMap<A, B: Sendable>(_ transform: Transform<A, B?>) -> StageNode {
        StageNode(kind: .compactMap, body: CompactMapBody(transform: transform))
    }
}

extension Kernels {
    /// The `compactMap` kernel, specialized where it is built.
    @inlinable
    package static func compactMap<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) throws -> B?) -> @Sendable (StageContext) -> ChunkKernel<A, B> {
        { context in
            let name = context.name, stop = context.stop
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    if let y = try callSync(f, x, stage: name) { output.append(y) }
                }
            }
        }
    }
}

/// A one-stage synchronous `compactMap` flow with its specialized kernel.
@usableFromInline
package func compactMapFlow<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) throws -> B?, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, B>) -> Flow<A, B> {
    Flow(StageNode(kind: .compactMap, body: CompactMapBody(transform: .sync(f), kernel: kernel)))
}
