// `op.forEach` and `ForEach`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// A side effect per item; the item passes on unchanged.
    ///
    /// ```swift
    /// op.forEach { (x: Int) in print(x) }
    /// ```
    ///
    /// - Parameter action: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `forEach`.
    @inlinable
    public static func forEach<A>(_ action: @escaping @Sendable (A) throws -> Void) -> Flow<A, A> {
        forEachFlow(action, kernel: Kernels.forEach(action))
    }

    /// An asynchronous side effect per item; the item passes on unchanged.
    ///
    /// ```swift
    /// op.forEach { (row: Row) in try await log.write(row) }
    /// ```
    ///
    /// - Parameter action: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `forEach`.
    public static func forEach<A>(_ action: @escaping @Sendable (A) async throws -> Void) -> Flow<A, A> {
        Flow(.forEach(Transform.async(action)))
    }
}

/// A side effect per item; the item passes on unchanged (same stage as `op.forEach`).
///
/// ```swift
/// Flow<Int, Int> { ForEach { print($0) } }
/// ```
///
/// SwiftUI also declares a type named `ForEach`. In a file that imports SwiftUI as well as Sluice,
/// write `Sluice.ForEach { … }` (or use `op.forEach`).
public struct ForEach<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `forEach` stage with a synchronous action.
    ///
    /// ```swift
    /// ForEach { (x: Int) in print(x) }
    /// ```
    ///
    /// - Parameter action: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ action: @escaping @Sendable (Element) throws -> Void) {
        flow = op.forEach(action)
    }

    /// A `forEach` stage with an asynchronous action.
    ///
    /// ```swift
    /// ForEach { (row: Row) in try await log.write(row) }
    /// ```
    ///
    /// - Parameter action: Called once per item. An error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    public init(_ action: @escaping @Sendable (Element) async throws -> Void) {
        flow = op.forEach(action)
    }
}

package struct ForEachBody<A: Sendable>: StageBody {
    package var action: Transform<A, Void>
    package var kernel: (@Sendable (StageContext) -> ChunkKernel<A, A>)?

    package init(action: Transform<A, Void>, kernel: (@Sendable (StageContext) -> ChunkKernel<A, A>)? = nil) {
        self.action = action
        self.kernel = kernel
    }

    package var isFusible: Bool { action.isSync }

    /// The specialized kernel when the stage was built with a concrete closure type, else a
    /// generic one (a stage built inside the library, e.g. by the railway).
    package func makeKernel(context: StageContext) -> ChunkKernel<A, A>? {
        if let kernel { return kernel(context) }
        return action.sync.map { Kernels.forEach($0)(context) }
    }

    package func makeAsyncSink(_ downstream: AsyncSink<A>, context: StageContext) -> AsyncSink<A> {
        let f = action, name = context.name, push = downstream.push
        return AsyncSink(push: { x in try await f.callAsync(x, stage: name); try await push(x) }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func forEach<A>(_ action: Transform<A, Void>) -> StageNode {
        StageNode(kind: .forEach, body: ForEachBody(action: action))
    }
}

extension Kernels {
    /// The `forEach` kernel, specialized where it is built.
    @inlinable
    package static func forEach<A: Sendable>(_ f: @escaping @Sendable (A) throws -> Void) -> @Sendable (StageContext) -> ChunkKernel<A, A> {
        { context in
            let name = context.name, stop = context.stop
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    try callSync(f, x, stage: name)
                    output.append(x)
                }
            }
        }
    }
}

/// A one-stage synchronous `forEach` flow with its specialized kernel.
@usableFromInline
package func forEachFlow<A: Sendable>(_ f: @escaping @Sendable (A) throws -> Void, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, A>) -> Flow<A, A> {
    Flow(StageNode(kind: .forEach, body: ForEachBody(action: .sync(f), kernel: kernel)))
}
