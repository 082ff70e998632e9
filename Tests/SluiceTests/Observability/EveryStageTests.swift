// One middleware or observer for every stage of a flow (told each stage's name), the stage's
// outputs in its `succeeded` event, and the progress line's source rate and per-stage rates.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Testing

private struct Broken: Error {}

@Suite struct EveryStageTests {
    @Test func aroundEachStageWrapsEveryStageWithItsName() async throws {
        let calls = Recorder<String>()
        let flow = (op.map { (x: Int) in x + 1 }.named("inc") | op.filter { $0.isMultiple(of: 2) }.named("even")
            | op.batch(2) | op.map { (xs: [Int]) in xs.reduce(0, +) }.named("sum"))
            .aroundEachStage { stage, item, next in
                calls.record("\(stage) \(item)")
                try await next()
            }
        #expect(try await flow(1...4).collect() == [2 + 4])
        // Stages run concurrently: each stage's calls are in order, the stages interleave.
        let calls_ = calls.all
        #expect(calls_.filter { $0.hasPrefix("inc ") } == ["inc 1", "inc 2", "inc 3", "inc 4"])
        #expect(calls_.filter { $0.hasPrefix("even ") } == ["even 2", "even 3", "even 4", "even 5"])
        #expect(calls_.filter { $0.hasPrefix("sum ") } == ["sum [2, 4]"])
        #expect(calls_.count == 9)   // `batch` has no per-item call: left as it is
    }

    @Test func aMiddlewareThatSkipsNextDropsTheItemsOutputs() async throws {
        let flow = op.map { (x: Int) in x * 10 }.aroundEachStage { _, item, next in
            if (item as? Int) != 2 { try await next() }
        }
        #expect(try await flow(1...3).collect() == [10, 30])
    }

    @Test func observeEachStageSeesEveryStageAndItsOutputs() async throws {
        let events = Recorder<String>()
        let flow = (op.map { (x: Int) in "\(x)" }.named("show") | op.map { (s: String) throws -> Int in
            if s == "3" { throw Broken() }
            return s.count
        }.named("count")).observeEachStage { event in
            switch event.kind {
            case .succeeded: events.record("\(event.stage) \(event.item) → \(event.outputs.map { "\($0)" })")
            case .failed: events.record("\(event.stage) \(event.item) failed")
            default: break
            }
        }
        let (items, error) = await readUntilFailure(Pipeline(1...3) | flow)
        #expect(items == [1, 1])
        #expect(error is StageFailure)
        #expect(events.all.filter { $0.hasPrefix("show") } == ["show 1 → [\"1\"]", "show 2 → [\"2\"]", "show 3 → [\"3\"]"])
        #expect(events.all.contains("count 3 failed"))
    }

    @Test func aSucceededEventCarriesTheOutputsTyped() async throws {
        let lengths = Recorder<Int>()
        let p = Pipeline(["a", "bbb"]) | op.flatMap { (s: String) in Array(repeating: s.count, count: 2) }.observe { event in
            if case .succeeded = event.kind { for n in event.outputs(as: Int.self) { lengths.record(n) } }
        }
        #expect(try await p.collect() == [1, 1, 3, 3])
        #expect(lengths.all == [1, 1, 3, 3])
    }

    @Test func theProgressRateIsTheSourcesNotTheLastStages() {
        let s = MetricsSnapshot(stages: [
            StageMetrics(name: "parse", kind: "map", workers: 1, inputs: 32_000, outputs: 32_000),
            StageMetrics(name: "batch", kind: "batch", workers: 1, inputs: 32_000, outputs: 63),
        ], elapsed: .seconds(2), isFinished: false)
        #expect(s.progressLine == "2.00s | parse 32000 → 32000 | batch 32000 → 63 | 16000.0 items/s")
        #expect(s.sourceItemsPerSecond == 16_000)
        #expect(s.outputsPerSecond(of: s.stages[1]) == 31.5)
        #expect(s.inputsPerSecond(of: s.stages[1]) == 16_000)
    }

    @Test func theProgressLineNotesDropsAndRateLimitWaits() {
        var buffer = StageMetrics(name: "buffer", kind: "buffer", workers: 1, inputs: 10, outputs: 7)
        buffer.dropped = 3
        var call = StageMetrics(name: "call", kind: "map", workers: 2, inputs: 7, outputs: 7)
        call.throttled = .milliseconds(1_500)
        let s = MetricsSnapshot(stages: [buffer, call], elapsed: .seconds(1), isFinished: true)
        #expect(s.progressLine == "1.00s | buffer 10 → 7 (dropped 3) | call 7 → 7 (throttled 1.50s) | 10.0 items/s")
    }
}
