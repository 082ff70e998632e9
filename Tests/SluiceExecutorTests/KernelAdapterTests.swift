// A kernel run one item at a time as an asynchronous sink (a synchronous stage inside an
// asynchronous segment).
import Testing
@testable import SluiceExecutor

@Suite struct KernelAdapterTests {
    @Test("the adapter runs the kernel per item, forwards its outputs and its final outputs")
    func forwardsOutputs() async throws {
        // A kernel that doubles each item and, at the end, emits how many it saw.
        let seen = Box(0)
        let kernel = ChunkKernel<Int, Int>(
            process: { input, output in
                for x in input { output.append(x * 2); seen.value += 1 }
            },
            finish: { output in output.append(-seen.value) })
        let received = Box<[Int]>([])
        let finished = Box(false)
        let sink = AsyncSink(kernel: kernel, downstream: AsyncSink<Int>(
            push: { received.value.append($0) },
            finish: { finished.value = true }))
        for x in 1...3 { try await sink.push(x) }
        try await sink.finish()
        #expect(received.value == [2, 4, 6, -3])
        #expect(finished.value)
    }
}
