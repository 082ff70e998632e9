// Huge but valid configuration values run, or saturate, instead of crashing: `batch(Int.max)`
// wherever the batch runs, buffers near `Int.max`, timeouts of `.seconds(Int64.max)`.
import Sluice
import SluiceExecutor
import Testing

@Suite struct HugeValuesTests {
    /// Inside a group the batch runs through its synchronous sink, which used to reserve `size`
    /// items up front: `malloc(): invalid size`.
    @Test func batchOfIntMaxInAGroup() async throws {
        let piped = Pipeline(0..<10) | (op.map { (x: Int) in x } | op.batch(Int.max)).named("g")
        #expect(try await piped.collect() == [Array(0..<10)])
        let built = Pipeline(0..<10) | Flow<Int, [Int]> { Map { (x: Int) in x }; Batch(Int.max) }.named("g")
        #expect(try await built.collect() == [Array(0..<10)])
    }

    @Test func batchOfIntMaxInAMeasuredRun() async throws {
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<10) | op.batch(Int.max)).metrics(metrics)
        #expect(try await p.collect() == [Array(0..<10)])
        #expect(metrics.snapshot()["batch"]?.outputs == 1)
    }

    /// The bound used to overflow (a trap) with a buffer of `Int.max - 1`; it saturates at
    /// `Int.max`, like an unbounded buffer, and the run works.
    @Test func aHugeBufferSaturatesTheBound() async throws {
        let huge = BufferSize(capacity: Int.max - 1)
        let p = Pipeline(0..<2_000) | op.map { (x: Int) async in x + 1 }.buffer(huge)
            | op.map { $0 * 2 }.workers(3).buffer(huge)
        #expect(p.inFlightBound == Int.max)
        #expect(try await p.collect() == (0..<2_000).map { ($0 + 1) * 2 })
        #expect((Pipeline(0..<1) | op.map { (x: Int) in x }.buffer(huge)).inFlightBound == Int.max)
    }

    /// `ContinuousClock` cannot represent a deadline `Int64.max` seconds away ("Not enough bits to
    /// represent the passed value"): such a timeout means no limit in practice.
    @Test func aTimeoutOfInt64MaxSecondsMeansNoLimit() async throws {
        let p = Pipeline(0..<3) | op.map { (x: Int) async in x + 1 }.timeout(.seconds(Int64.max))
        #expect(try await p.collect() == [1, 2, 3])
    }
}
