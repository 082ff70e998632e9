// A sequential stage that needs no more input ends the run normally and stops the source.
import Testing
@testable import SluiceExecutor
import SluiceTestSupport

/// Passes items on until it has passed `count`, then completes.
private struct FirstItemsBody: StageBody {
    typealias Input = Int
    typealias Output = Int
    let count: Int
    var isFusible: Bool { true }

    func makeKernel(context: StageContext) -> ChunkKernel<Int, Int>? {
        let count = self.count, passed = Box(0)
        return ChunkKernel { input, output in
            for x in input {
                output.append(x)
                passed.value += 1
                if passed.value == count { throw StageCompleted() }
            }
        }
    }
}

private struct CountingSource: SourceBody {
    let pulled: Counter
    var isSynchronous: Bool { true }
    func open(stop: StopSignal) async throws -> SourceCursor<Int> {
        let reader = IteratorReader(CountingSequence(count: nil, pulled: pulled).makeIterator(), stop: stop)
        return .sync { buffer, limit in reader.read(into: &buffer, limit: limit) }
    }
}

@Suite struct StageCompletedTests {
    @Test(arguments: [nil, 64] as [Int?])
    func aCompletedStageEndsTheRunNormallyAndStopsTheSource(buffer: Int?) async throws {
        let pulled = Counter()
        let node = StageNode(kind: .map, options: StageOptions(buffer: buffer), isSequential: true, body: FirstItemsBody(count: 5))
        let after = StageNode(kind: .map, body: FirstItemsBody(count: .max))
        let outputs = try await Runner.run(source: CountingSource(pulled: pulled), nodes: [node, after]) { (out: RunOutput<Int>) in
            var all: [Int] = []
            while try await out.receive(into: &all) {}
            return all
        }
        #expect(outputs == [0, 1, 2, 3, 4])
        #expect(pulled.value < 1_000, "the endless source stopped (pulled \(pulled.value))")
    }
}
