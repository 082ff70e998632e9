// DESIGN §3.8: bad configuration is rejected where it is written, with a message naming the
// parameter, the value and the stage. (Exit-test bodies cannot capture, so each is written out.)
import Sluice
import SluiceExecutor
import Testing

func stderrText(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

@Suite struct ConfigurationTests {
    @Test func workersBelowOne() async {
        let named = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").workers(0)
        }
        #expect(stderrText(named).contains("workers must be >= 1, got 0 (stage 'fetch')"), "\(stderrText(named))")
        let builder = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Map { (x: Int) in x }.workers(-3)
        }
        #expect(stderrText(builder).contains("workers must be >= 1, got -3 (stage 'map')"), "\(stderrText(builder))")
    }

    /// Above `Plan.maxWorkers` (10,000): `workers(Int.max)` used to be accepted, then spawn tasks
    /// until the process died.
    @Test func workersAboveTheMaximum() async {
        let named = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").workers(10_001)
        }
        #expect(stderrText(named).contains("workers must be <= 10000, got 10001 (stage 'fetch')"), "\(stderrText(named))")
        let builder = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Map { (x: Int) in x }.workers(Int.max)
        }
        #expect(stderrText(builder).contains("workers must be <= 10000, got 9223372036854775807 (stage 'map')"), "\(stderrText(builder))")
    }

    @Test func theMaximumWorkerCountRuns() async throws {
        #expect(Plan.maxWorkers == 10_000)
        let p = Pipeline(0..<100) | op.map { (x: Int) async in x + 1 }.workers(Plan.maxWorkers)
        #expect(try await p.collect() == Array(1...100))
    }

    @Test func batchSizeBelowOne() async {
        let piped = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.batch(0) as Flow<Int, [Int]>
        }
        #expect(stderrText(piped).contains("batch size must be >= 1, got 0 (stage 'batch')"), "\(stderrText(piped))")
        let built = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Batch<Int>(-2)
        }
        #expect(stderrText(built).contains("batch size must be >= 1, got -2 (stage 'batch')"), "\(stderrText(built))")
    }

    @Test func negativeBuffer() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("parse").buffer(-1)
        }
        #expect(stderrText(result).contains("buffer must be >= 0, got -1 (stage 'parse')"), "\(stderrText(result))")
    }

    @Test func parallelBatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = (op.batch(3) as Flow<Int, [Int]>).workers(4)
        }
        #expect(stderrText(result).contains("workers must be 1 for stage 'batch', got 4"), "\(stderrText(result))")
    }

    @Test func emptyName() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("")
        }
        #expect(stderrText(result).contains("name must not be empty (stage 'map')"), "\(stderrText(result))")
    }

    @Test func validValuesAreAccepted() {
        let flow = op.map { (x: Int) in x }.workers(1).buffer(0).buffer(.unbounded).named("ok")
        #expect(flow.stages.first?.buffer == .unbounded)
        #expect(flow.stages.first?.name == "ok")
    }
}
