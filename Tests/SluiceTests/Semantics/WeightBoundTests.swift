// A stage's output buffer and a source's read-ahead can be bounded by total weight (bytes, say):
// a producer of 5 MB items into a 10 MB-bounded stage holds at most the bound plus the item in hand.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct WeightedBufferTests {
    static let heavy = 5 << 20, bound = 10 << 20
    /// Items 0..<200 weigh 1 byte (the consumer takes them freely, so every channel's slow start
    /// grows far past a few items); later items weigh 5 MB.
    static func payload(_ i: Int) -> [UInt8] { [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: i < 200 ? 1 : heavy) }

    /// Runs `pipeline`; the consumer blocks on item 200 (the first heavy one). Returns the heavy
    /// items made while it was blocked, and every item's first byte once released.
    func heavyMadeWhileBlocked(_ pipeline: Pipeline<[UInt8]>, made: Counter) async throws -> (Int, [UInt8]) {
        let gate = Gate(), received = Counter()
        return try await withDeadline(seconds: 30) {
            async let firstBytes = pipeline.reduce(into: [UInt8]()) { bytes, item in
                if received.increment() == 201 { try await gate.wait() }
                bytes.append(item[0])
            }
            // The consumer is blocked on item 200; then let the producers run until they wait.
            await received.wait(atLeast: 201)
            await yieldRepeatedly()
            let heavyMade = made.value - 200
            gate.open()
            return (heavyMade, try await firstBytes)
        }
    }

    @Test func aHeavyProducerHoldsAtMostTheBoundPlusTheItemInHand() async throws {
        let made = Counter()
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<210) | op.map { (i: Int) -> [UInt8] in
            made.increment()
            return Self.payload(i)
        }.buffer(maxWeight: Self.bound) { $0.count }.named("download")).metrics(metrics)
        let (heavyMade, bytes) = try await heavyMadeWhileBlocked(p, made: made)
        // With the consumer: one batch, itself at most 10 MB (2 items); in the buffer: 10 MB (2);
        // in the worker's hand: 1.
        #expect(heavyMade <= 5, "\(heavyMade) heavy items made while the consumer was blocked")
        #expect(bytes == (0..<210).map { UInt8(truncatingIfNeeded: $0) })
        let buffer = try #require(metrics.snapshot()["download"]?.buffer)
        #expect(buffer.maxWeight == Self.bound)
        #expect(buffer.weightHighWater <= Self.bound && buffer.weightHighWater >= Self.heavy, "\(buffer.weightHighWater)")
    }

    @Test func anItemHeavierThanTheWholeBoundStillPasses() async throws {
        let metrics = PipelineMetrics()
        let p = (Pipeline(0..<5) | op.map { (i: Int) -> [UInt8] in [UInt8](repeating: UInt8(i), count: Self.heavy) }
            .buffer(maxWeight: 1 << 20) { $0.count }.named("big")).metrics(metrics)
        let firsts = try await withDeadline(seconds: 30) { try await p.collect().map { $0[0] } }
        #expect(firsts == [0, 1, 2, 3, 4])
        #expect(metrics.snapshot()["big"]?.buffer?.weightHighWater == Self.heavy, "one at a time")
    }

    @Test func theSourceReadAheadIsBoundedByWeightToo() async throws {
        let made = Counter()
        let p = Pipeline(Payloads(made: made)).readAhead(maxWeight: Self.bound) { $0.count }
            | op.map { (item: [UInt8]) async in item }.buffer(1)
        let (heavyMade, bytes) = try await heavyMadeWhileBlocked(p, made: made)
        // With the consumer: 1 (its batch: the stage's buffer holds 1); the stage's buffer: 1;
        // its worker: 1; the source's buffer: 10 MB, 2 items; the source task's hand: 1.
        // (Without the weight bound the source's buffer alone holds 16.)
        #expect(heavyMade <= 1 + 1 + 1 + 2 + 1, "\(heavyMade)")
        #expect(bytes == (0..<230).map { UInt8(truncatingIfNeeded: $0) })
    }

    @Test func bothSpellingsBuildTheSameStage() {
        let pipe: Flow<[UInt8], [UInt8]> = op.map { (x: [UInt8]) in x }.buffer(maxWeight: 100) { $0.count }
        let builder = Flow<[UInt8], [UInt8]> { Map { (x: [UInt8]) in x }.buffer(maxWeight: 100) { $0.count } }
        #expect(pipe.stages == builder.stages)
        #expect(pipe.stages[0].description == "map(maxWeight: 100)")
        #expect((op.map { (x: [UInt8]) in x }.buffer(8, maxWeight: 100) { $0.count }).stages[0].description == "map(buffer: 8, maxWeight: 100)")
    }

    @Test func aWeightBoundBelowOneIsRejected() async {
        let stage = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: [UInt8]) in x }.named("download").buffer(maxWeight: 0) { $0.count }
        }
        #expect(stderrText(stage).contains("maxWeight must be >= 1, got 0 (stage 'download')"), "\(stderrText(stage))")
        let source = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Pipeline([[UInt8]()]).readAhead(maxWeight: -5) { $0.count }
        }
        #expect(stderrText(source).contains("maxWeight must be >= 1, got -5 (source)"), "\(stderrText(source))")
    }
}

/// `WeightedBufferTests.payload(i)` for i in 0..<230 (30 heavy items), counting what is made.
struct Payloads: Sequence, Sendable {
    let made: Counter
    struct Iterator: IteratorProtocol {
        var i = 0
        let made: Counter
        mutating func next() -> [UInt8]? {
            guard i < 230 else { return nil }
            defer { i += 1 }
            made.increment()
            return WeightedBufferTests.payload(i)
        }
    }
    func makeIterator() -> Iterator { Iterator(made: made) }
}
