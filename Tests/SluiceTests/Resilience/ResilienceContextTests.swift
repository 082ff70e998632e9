// Context and per-item runs: task-locals reach every worker; `flow.run(x)`; `Pipeline(items) |
// flow.workers(n)` as async-pipeline's `map(items, concurrency:)`.
import Sluice
import SluiceTestSupport
import Testing

enum RequestContext {
    @TaskLocal static var requestID: String?
}

/// Per-item context travels with the item instead of living in a shared dictionary.
struct Job: Sendable, Equatable {
    var id: Int
    var trace: [String] = []
}

@Suite struct ResilienceContextTests {
    @Test func taskLocalsSetAroundTheTerminalReachEveryWorker() async throws {
        let seen = Recorder<String?>()
        let p = Pipeline(0..<200)
            | op.map { (x: Int) -> Int in seen.record(RequestContext.requestID); return x }              // fused, sync
            | op.map { (x: Int) async -> Int in seen.record(RequestContext.requestID); return x }.workers(4)
            | op.filter { (_: Int) in seen.record(RequestContext.requestID); return true }.workers(4).unordered()
            | op.map { (x: Int) async -> Int in seen.record(RequestContext.requestID); return x }
                .timeout(.seconds(60)).workers(4)                                                         // a child task per attempt
                .observe { _ in seen.record(RequestContext.requestID) }
        let count = try await RequestContext.$requestID.withValue("req-42") { try await p.count() }
        #expect(count == 200)
        #expect(seen.all.count == 200 * 6)
        #expect(seen.all.allSatisfy { $0 == "req-42" })
    }

    @Test func taskLocalsReachTheStagesOfAForAwaitLoop() async throws {
        let seen = Recorder<String?>()
        let p = Pipeline(0..<10) | op.map { (x: Int) async -> Int in seen.record(RequestContext.requestID); return x }.workers(2)
        try await RequestContext.$requestID.withValue("loop") {
            for try await _ in p {}
        }
        #expect(seen.all == Array(repeating: "loop", count: 10))
    }

    @Test func perItemContextTravelsWithTheItem() async throws {
        let flow = op.map { (job: Job) async -> Job in
            var job = job
            job.trace.append("fetched \(job.id)")
            return job
        }.workers(4) | op.map { (job: Job) -> Job in
            var job = job
            job.trace.append("parsed")
            return job
        }
        let jobs = try await (Pipeline((0..<8).map { Job(id: $0) }) | flow).collect()
        #expect(jobs == (0..<8).map { Job(id: $0, trace: ["fetched \($0)", "parsed"]) })
    }

    // MARK: flow.run

    @Test func runReturnsTheOutputsOfOneInput() async throws {
        #expect(try await (op.map { (x: Int) in x * 2 } | op.map { $0 + 1 }).run(5) == [11])
        #expect(try await op.filter { (x: Int) in x > 10 }.run(5) == [])
        #expect(try await op.flatMap { (x: Int) in [x, x, x] }.run(2) == [2, 2, 2])
        #expect(try await Flow<String, Int> { CompactMap { Int($0) } }.run("12") == [12])
    }

    @Test func runThrowsTheStageFailure() async throws {
        let flow = op.map { (x: Int) throws -> Int in
            if x < 0 { throw Permanent() }
            return x
        }.named("check")
        let failure = await #expect(throws: StageFailure.self) { try await flow.run(-1) }
        #expect(failure?.stage == "check" && failure?.item as? Int == -1)
    }

    // MARK: async-pipeline's map(items, concurrency:)

    @Test func applyingAFlowWithWorkersKeepsInputOrder() async throws {
        let gates = (0..<8).map { _ in Gate() }
        let flow = op.map { (x: Int) async throws -> Int in
            try await gates[x].wait()
            return x * x
        } | op.map { $0 + 1 }
        let result = Task { try await (Pipeline(0..<8) | flow.workers(4)).collect() }
        try await withDeadline {
            for gate in gates.reversed() { gate.open() }   // finish in reverse order
            let values = try await result.value
            #expect(values == (0..<8).map { $0 * $0 + 1 })
        }
    }

    @Test func theFirstErrorFailsFastWithOneStageFailure() async throws {
        let started = Counter()
        let flow = op.map { (x: Int) async throws -> Int in
            started.increment()
            if x == 3 { throw Permanent() }
            if x > 3 { try await Gate().wait() }   // work past the failure would wait forever
            return x
        }.named("fetch")
        let failure = try await withDeadline {
            await #expect(throws: StageFailure.self) { try await (Pipeline(0..<1000) | flow.workers(4)).collect() }
        }
        #expect(failure?.stage == "fetch" && failure?.item as? Int == 3)
        #expect(started.value < 1000)
    }

    @Test func theRailwayReturnsFailuresInTheirPlaces() async throws {
        let flow = op.tryMap { (x: Int) async throws -> Int in
            if x % 3 == 0 { throw Permanent() }
            return x * 10
        }.retry(.attempts(2)).workers(4)
        let results = try await (Pipeline(1...6) | flow).collect()
        #expect(results.map { (try? $0.get()) ?? -1 } == [10, 20, -1, 40, 50, -1])
        let failures = results.compactMap { if case .failure(let f) = $0 { f } else { nil } }
        #expect(failures.map { $0.item as? Int } == [3, 6])
        #expect(failures.allSatisfy { $0.attempts == 2 && $0.underlying is Permanent })
    }
}
