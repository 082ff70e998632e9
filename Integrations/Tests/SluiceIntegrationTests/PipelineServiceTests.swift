// A pipeline as a swift-service-lifecycle Service: the group's graceful shutdown is a graceful stop
// (everything read finishes and is acknowledged, run() returns normally); no server needed.
import Logging
import ServiceLifecycle
import Sluice
import SluiceServiceLifecycle
import Synchronization
import Testing

/// 0, 1, 2, … for ever: an endless acknowledged source.
struct Naturals: Sequence, Sendable {
    struct Iterator: IteratorProtocol {
        var n = 0
        mutating func next() -> Delivery<Int, Int>? {
            defer { n += 1 }
            return Delivery(id: n, element: n)
        }
    }
    func makeIterator() -> Iterator { Iterator() }
}

@Suite("Pipeline as a Service")
struct PipelineServiceTests {
    @Test func gracefulShutdownFinishesAndAcknowledgesEverythingRead() async throws {
        let acknowledged = Mutex<[Int]>([])
        let processed = Atomic<Int>(0)
        let pipeline = AcknowledgedPipeline(Naturals(), maxBatch: 64, acknowledge: { (batch: AckBatch<Int>) in
            acknowledged.withLock { $0 += batch.acknowledgements.map(\.id) }
        }) | op.map { (n: Int) in
            processed.add(1, ordering: .relaxed)
            return n * 2
        }.workers(2)
        let service = PipelineService(name: "naturals", stopDeadline: .seconds(30), pipeline)
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.service"))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await waitUntil("the pipeline has acknowledged 10,000 items") {
                acknowledged.withLock { $0.count } >= 10_000
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()   // run() returned normally: no error
        }

        // Everything read was processed and acknowledged exactly once: a contiguous prefix 0..<k.
        let ids = acknowledged.withLock { $0 }
        #expect(ids.count == processed.load(ordering: .relaxed))
        #expect(ids.sorted() == Array(0..<ids.count))
    }

    @Test func aPipelineThatEndsByItselfEndsTheService() async throws {
        let outputs = Mutex<[Int]>([])
        let service = PipelineService(name: "finite", Pipeline(1...100) | op.map { (n: Int) in n + 1 }) { n in
            outputs.withLock { $0.append(n) }
        }
        try await service.run()
        #expect(outputs.withLock { $0 } == Array(2...101))
        #expect(service.description == "PipelineService(finite)")
    }

    @Test func aDeadlinePassedStopsTheRunWithPipelineTimeout() async throws {
        // The stage never finishes its item (until cancelled): the deadline cancels the run.
        let started = Atomic<Bool>(false)
        let pipeline = AcknowledgedPipeline(Naturals(), acknowledge: { (_: AckBatch<Int>) in })
            | op.map { (n: Int) async throws -> Int in
                started.store(true, ordering: .relaxed)
                try await Task.sleep(for: .seconds(3_600))   // stands for a stuck call; cancellation ends it
                return n
            }
        let service = PipelineService(name: "stuck", stopDeadline: .milliseconds(100), pipeline)
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.service"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                let error = await #expect(throws: PipelineTimeout.self) { try await group.run() }
                #expect(error?.limit == .gracefulStop)
            }
            try await waitUntil("the stage has an item") { started.load(ordering: .relaxed) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
