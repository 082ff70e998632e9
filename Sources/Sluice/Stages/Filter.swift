// `op.filter` and `Filter`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// Keeps the items for which `isIncluded` returns true.
    ///
    /// ```swift
    /// op.filter { (x: Int) in x.isMultiple(of: 3) }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `filter`.
    @inlinable
    public static func filter<A>(_ isIncluded: @escaping @Sendable (A) throws -> Bool) -> Flow<A, A> {
        filterFlow(isIncluded, kernel: Kernels.filter(isIncluded))
    }

    /// Keeps the items for which the asynchronous `isIncluded` returns true.
    ///
    /// ```swift
    /// op.filter { (url: URL) in await robots.allows(url) }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `filter`.
    public static func filter<A>(_ isIncluded: @escaping @Sendable (A) async throws -> Bool) -> Flow<A, A> {
        Flow(.filter(Transform.async(isIncluded)))
    }
}

/// Keeps the items the predicate accepts (builder style; same stage as `op.filter`).
///
/// ```swift
/// Flow<Int, Int> { Filter { $0 > 0 } }
/// ```
public struct Filter<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `filter` stage with a synchronous predicate.
    ///
    /// ```swift
    /// Filter { (line: String) in !line.isEmpty }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ isIncluded: @escaping @Sendable (Element) throws -> Bool) {
        flow = op.filter(isIncluded)
    }

    /// A `filter` stage with an asynchronous predicate.
    ///
    /// ```swift
    /// Filter { (url: URL) in await robots.allows(url) }
    /// ```
    ///
    /// - Parameter isIncluded: Called once per item; `true` keeps it. An error it throws fails the
    ///   run with a `StageFailure` naming the stage and the item.
    public init(_ isIncluded: @escaping @Sendable (Element) async throws -> Bool) {
        flow = op.filter(isIncluded)
    }
}

package struct FilterBody<A: Sendable>: StageBody {
    package var predicate: Transform<A, Bool>
    package var kernel: (@Sendable (StageContext) -> ChunkKernel<A, A>)?

    package init(predicate: Transform<A, Bool>, kernel: (@Sendable (StageContext) -> ChunkKernel<A, A>)? = nil) {
        self.predicate = predicate
        self.kernel = kernel
    }

    package var isFusible: Bool { predicate.isSync }

    /// The specialized kernel when the stage was built with a concrete closure type, else a
    /// generic one (a stage built inside the library, e.g. by the railway).
    package func makeKernel(context: StageContext) -> ChunkKernel<A, A>? {
        if let kernel { return kernel(context) }
        return predicate.sync.map { Kernels.filter($0)(context) }
    }

    package func makeAsyncSink(_ downstream: AsyncSink<A>, context: StageContext) -> AsyncSink<A> {
        let p = predicate, name = context.name, push = downstream.push
        return AsyncSink(push: { x in if try await p.callAsync(x, stage: name) { try await push(x) } }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func filter<A>(_ predicate: Transform<A, Bool>) -> StageNode {
        StageNode(kind: .filter, body: FilterBody(predicate: predicate))
    }
}

extension Kernels {
    /// The `filter` kernel, specialized where it is built.
    @inlinable
    package static func filter<A: Sendable>(_ f: @escaping @Sendable (A) throws -> Bool) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let name = context.name, stop = context.stop
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    if try callSync(f, x, stage: name) { output.append(x) }
                }
            }
        }
    }
}

/// A one-stage synchronous `filter` flow with its specialized kernel.
@usableFromInline
package func filterFlow<A: Sendable>(_ f: @escaping @Sendable (A) throws -> Bool, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    Flow(StageNode(kind: .filter, body: FilterBody(predicate: .sync(f), kernel: kernel)))
}
