// `op.batch` and `Batch`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// Groups consecutive items into arrays of `size` (the last may be shorter; never empty).
    /// `size` must be >= 1; `Int.max` collects everything into one array.
    ///
    /// ```swift
    /// Pipeline(1...5) | op.batch(2)     // [1, 2], [3, 4], [5]
    /// ```
    ///
    /// A `batch` stage groups consecutive items, so it always has one worker and takes no
    /// per-item modifier (`retry`, `timeout`, `around`, `observe`).
    ///
    /// - Parameter size: The number of items per array; at least 1 (a precondition).
    /// - Returns: A one-stage flow of kind `batch`.
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
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, [Element]>

    /// A `batch` stage.
    ///
    /// ```swift
    /// Batch<String>(10)
    /// ```
    ///
    /// - Parameter size: The number of items per array; at least 1 (a precondition).
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

    package func makeKernel(context: StageContext) -> ChunkKernel<A, [A]>? {
        // The batch being filled, one per worker.
        let size = self.size, pending = Box<[A]>([])
        return ChunkKernel(
            process: { input, output in
                for x in input {
                    pending.value.append(x)
                    if pending.value.count == size {
                        output.append(pending.value)
                        pending.value = []
                        pending.value.reserveCapacity(Swift.min(size, Self.reservation))
                    }
                }
            },
            finish: { output in
                if !pending.value.isEmpty {
                    output.append(pending.value)
                    pending.value = []
                }
            })
    }

    package func makeAsyncSink(_ downstream: AsyncSink<[A]>, context: StageContext) -> AsyncSink<A> {
        let size = self.size, pending = Box<[A]>([]), push = downstream.push, finish = downstream.finish
        return AsyncSink(
            push: { x in
                pending.value.append(x)
                if pending.value.count == size {
                    let full = pending.value
                    pending.value = []
                    try await push(full)
                }
            },
            finish: {
                if !pending.value.isEmpty {
                    let rest = pending.value
                    pending.value = []
                    try await push(rest)
                }
                try await finish()
            })
    }
}

extension StageNode {
    package static func batch<A: Sendable>(_ size: Int, of: A.Type) -> StageNode {
        require(size >= 1, "batch size must be >= 1, got \(size) (stage 'batch')")
        var node = StageNode(kind: .batch, isSequential: true, body: BatchBody<A>(size: size))
        node.parameters = "\(size)"
        return node
    }
}
