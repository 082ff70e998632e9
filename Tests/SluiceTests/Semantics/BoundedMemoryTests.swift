// DESIGN §3.3: with a blocked consumer, the items taken from the source stay within the documented
// bound (`Plan.inFlightBound`), which grows with buffers and workers.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Testing

@Suite struct BoundedMemoryTests {
    /// Items the consumer takes before it blocks: enough for every channel's slow start to reach
    /// its capacity, so the buffers can fill up to the bound.
    static let warmup = 4_096

    /// Runs `flow` over an endless counting source; the consumer takes `warmup` items, then blocks.
    /// Returns (items pulled from the source and not delivered while it is blocked, the bound).
    func pulledWhileConsumerBlocked(_ flow: Flow<Int, Int>, atLeast minimum: Int) async throws -> (pulled: Int, bound: Int) {
        let pulled = Counter(), gate = Gate()
        let pipeline = Pipeline(CountingSequence(count: nil, pulled: pulled)) | flow
        let bound = Plan(nodes: pipeline.nodes, synchronousSource: true).inFlightBound
        let consumed = Counter()
        async let run: Void = pipeline.forEach { _ in
            let n = consumed.increment()
            if n == Self.warmup { try await gate.wait() }
            else if n > Self.warmup { throw CancellationError() }
        }
        await pulled.wait(atLeast: Self.warmup + minimum)
        await yieldRepeatedly()
        // The item the consumer holds was delivered: it does not count.
        let value = pulled.value - Self.warmup
        gate.open()
        _ = try? await run
        return (value, bound)
    }

    @Test(arguments: [0, 1, 8, 64])
    func sourceReadAheadStaysWithinTheBound(buffer: Int) async throws {
        let flow = op.map { (x: Int) async in x }.buffer(BufferSize(capacity: buffer))
        let (pulled, bound) = try await pulledWhileConsumerBlocked(flow, atLeast: buffer + 1)
        #expect(pulled <= bound, "pulled \(pulled), bound \(bound)")
    }

    @Test func theBoundGrowsWithBufferAndWorkers() async throws {
        let small = try await pulledWhileConsumerBlocked(op.map { (x: Int) async in x }.buffer(2), atLeast: 3)
        let large = try await pulledWhileConsumerBlocked(op.map { (x: Int) async in x }.buffer(64), atLeast: 65)
        #expect(small.pulled <= small.bound && large.pulled <= large.bound)
        #expect(large.pulled > small.pulled)
        #expect(large.bound > small.bound)

        let one = op.map { (x: Int) async in x }.buffer(4)
        let many = op.map { (x: Int) async in x }.buffer(4).workers(16)
        let w1 = try await pulledWhileConsumerBlocked(one, atLeast: 5)
        let w16 = try await pulledWhileConsumerBlocked(many, atLeast: 20)
        #expect(w1.pulled <= w1.bound && w16.pulled <= w16.bound)
        #expect(w16.bound > w1.bound)
        #expect(w16.pulled > w1.pulled)
    }

    @Test func theBoundIncludesATimedStagesReadAhead() async throws {
        let clock = TestClock()
        // One output per input: the batches are of one item.
        let timed = op.batch(1, within: .seconds(1), clock: clock) | op.map { (a: [Int]) in a[0] }
        let (pulled, bound) = try await pulledWhileConsumerBlocked(timed, atLeast: 1)
        #expect(pulled <= bound, "pulled \(pulled), bound \(bound)")
        // A buffer that drops holds its size in its inbox: the bound counts it.
        let plain = Pipeline(0..<1) | op.map { (x: Int) async in x }
        let dropping = Pipeline(0..<1) | op.map { (x: Int) async in x }.buffer(5_000, whenFull: .dropOldest)
        #expect(dropping.inFlightBound >= plain.inFlightBound + 5_000)
        let plan = Plan(nodes: (Pipeline(0..<1) | timed).nodes, synchronousSource: true)
        let segment = try #require(plan.segments.first { $0.nodes[0].kind == .batch })
        #expect(segment.readAhead == 2 * segment.takeLimit)
    }

    @Test func fusedSynchronousStagesAreBoundedToo() async throws {
        let flow = op.map { (x: Int) in x + 1 } | op.filter { _ in true } | op.map { $0 - 1 }
        let (pulled, bound) = try await pulledWhileConsumerBlocked(flow, atLeast: 1)
        #expect(pulled <= bound, "pulled \(pulled), bound \(bound)")
    }

    @Test func flatMapExpansionsAreStreamedNotBuffered() async throws {
        // One input expands to an endless sequence; with a blocked consumer only a bounded number
        // of sub-items is produced.
        let produced = Counter(), gate = Gate()
        let p = Pipeline([1]) | op.flatMap { (_: Int) in CountingSequence(count: nil, pulled: produced) }.buffer(4)
        let bound = Plan(nodes: p.nodes, synchronousSource: true).inFlightBound
        let first = Counter()
        async let run: Void = p.forEach { _ in
            if first.increment() == 1 { try await gate.wait() }
            else { throw CancellationError() }
        }
        // What is sure to be produced while the consumer holds the first item: that item, the
        // channel's starting room (2; it grows only as the consumer takes), and the one the worker
        // is sending. (Waiting for 5 hung under the thread sanitizer: the room had stayed at 2.)
        try await withDeadline { await produced.wait(atLeast: 4) }
        await yieldRepeatedly()
        let value = produced.value
        gate.open()
        _ = try? await run
        #expect(value <= bound, "produced \(value), bound \(bound)")
    }
}
