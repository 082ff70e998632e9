// `op.batch` and `Batch`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// Groups consecutive items into arrays of `size` (the last may be shorter; never empty).
    /// `size` must be >= 1; `Int.max` collects everything into one array.
    ///
    /// ```swift
    /// Pipeline(1...5) | op.batch(2)     // [1, 2], [3, 4], [5]
    /// ```
    public static func batch<A>(_ size: Int) -> Flow<A, [A]> {
        Flow(.batch(size, of: A.self))
    }
}

/// Groups consecutive items into arrays of up to `size` (same stage as `op.batch`).
/// After a stage that changed the element type, spell it: `Batch<String>(10)`.
///
/// ```swift
/// Flow<Int, [Int]> { Batch(100) }
/// ```
public struct Batch<Element: Sendable>: FlowComponent {
    public let flow: Flow<Element, [Element]>

    public init(_ size: Int) {
        flow = op.batch(size)
    }
}

package struct BatchBody<A: Sendable>: StageBody {
    package var size: Int

    package init(size: Int) {
        self.size = size
    }

    package var isFusible: Bool { true }

    /// Capacity reserved for a batch up front: at most this many items, so that a huge `size`
    /// (`batch(Int.max)`, "everything in one array") does not try to allocate it all at once.
    static var reservation: Int { 1024 }

    /// The batch being filled, one per worker.
    final class Pending {
        var items: [A] = []
    }

    package func makeKernel(context: StageContext) -> ChunkKernel<A, [A]>? {
        let size = self.size, pending = Pending()
        return ChunkKernel(
            process: { input, output in
                for x in input {
                    pending.items.append(x)
                    if pending.items.count == size {
                        output.append(pending.items)
                        pending.items = []
                        pending.items.reserveCapacity(Swift.min(size, Self.reservation))
                    }
                }
            },
            finish: { output in
                if !pending.items.isEmpty {
                    output.append(pending.items)
                    pending.items = []
                }
            })
    }

    package func makeAsyncSink(_ downstream: AsyncSink<[A]>, context: StageContext) -> AsyncSink<A> {
        let size = self.size, pending = Pending(), push = downstream.push, finish = downstream.finish
        return AsyncSink(
            push: { x in
                pending.items.append(x)
                if pending.items.count == size {
                    let full = pending.items
                    pending.items = []
                    try await push(full)
                }
            },
            finish: {
                if !pending.items.isEmpty {
                    let rest = pending.items
                    pending.items = []
                    try await push(rest)
                }
                try await finish()
            })
    }
}

extension StageNode {
    package static func batch<A: Sendable>(_ size: Int, of: A.Type) -> StageNode {
        require(size >= 1, "batch size must be >= 1, got \(size) (stage 'batch')")
        return StageNode(kind: .batch, isSequential: true, body: BatchBody<A>(size: size))
    }
}
