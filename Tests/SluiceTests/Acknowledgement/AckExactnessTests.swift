// Acknowledgement exactness under random pipelines: filters, flatMaps, batches (counted and
// timed), unordered and ordered workers, railway failures, and fail-fast failures. Every
// delivery is acknowledged exactly once, never before the last event of its descendants, and
// never when it did not complete.
import Foundation
import Testing
import Sluice
import SluiceExecutor
import SluiceTestSupport

/// One random acknowledged pipeline.
struct AckScenario: CustomStringConvertible {
    var seed: UInt64
    var items: Int
    var stages: [String] = []
    /// A plain stage throws on the first item carrying this id (fail-fast).
    var failFastID: Int?
    var railway: Bool
    /// How the run ends besides the end of its source: cancelled, or stopped gracefully, once
    /// `after` outputs were consumed.
    enum Ending: String { case normally, cancelled, gracefulStop }
    var ending: Ending
    var after: Int
    var asyncSource: Bool
    /// The consumer stops for a while every few items.
    var stallingConsumer: Bool
    var flow: Flow<Origins, Origins>

    var description: String { "seed \(seed): \(items) items\(asyncSource ? " (async)" : ""), \(stages.joined(separator: " | "))\(railway ? " | tryMap | thenMap" : "")\(failFastID.map { ", fails on \($0)" } ?? ""), ends \(ending.rawValue) after \(after)\(stallingConsumer ? ", stalling consumer" : "")" }

    struct Broken: Error {}

    init(seed: UInt64, recorder: AckRecorder) {
        self.seed = seed
        var random = TestRandom(seed: seed)
        items = random.next(upTo: 120)
        railway = random.next(upTo: 3) == 0
        ending = [.normally, .normally, .cancelled, .gracefulStop][random.next(upTo: 4)]
        after = random.next(upTo: 40)
        asyncSource = random.next(upTo: 2) == 0
        stallingConsumer = random.next(upTo: 3) == 0
        failFastID = random.next(upTo: 4) == 0 && items > 0 ? random.next(upTo: items) : nil
        var flow = Flow<Origins, Origins>()
        let failAt = failFastID
        for position in 0..<(1 + random.next(upTo: 4)) {
            let salt = random.next()
            @Sendable func drop(_ x: Origins, _ modulus: UInt64) -> Bool { (UInt64(x.ids.reduce(0, +)) &+ salt) % modulus == 0 }
            var stage: Flow<Origins, Origins>
            switch random.next(upTo: 10) {
            case 9:
                stages.append("flatMap.partitioned")
                stage = op.flatMap { (x: Origins) async throws -> [Origins] in
                    await Task.yield()
                    recorder.touch(x)
                    if let failAt, x.ids.contains(failAt) { throw Broken() }
                    return drop(x, 3) ? [] : [x]
                }.workers(1 + random.next(upTo: 3)).partitioned(by: { $0.ids.first.map { $0 % 3 } ?? 0 })
            case 7:
                stages.append("broadcast(map, filter, flatMap)")
                stage = op.broadcast(
                    op.map { (x: Origins) async in recorder.touch(x); return x },
                    op.filter { (x: Origins) in recorder.touch(x); return !drop(x, 2) },
                    op.flatMap { (x: Origins) in
                        recorder.touch(x)
                        return Array(repeating: x, count: Int((UInt64(x.ids.reduce(0, +)) &+ salt) % 3))
                    }).workers(1 + random.next(upTo: 2))
            case 8:
                stages.append("route(map | filter | flatMap)")
                stage = op.route(by: { (x: Origins) in Int((UInt64(x.ids.reduce(0, +)) &+ salt) % 3) }, [
                    0: op.map { (x: Origins) throws -> Origins in
                        recorder.touch(x)
                        if let failAt, x.ids.contains(failAt) { throw Broken() }
                        return x
                    },
                    1: op.filter { (x: Origins) in recorder.touch(x); return !drop(x, 2) },
                    2: op.flatMap { (x: Origins) in recorder.touch(x); return [x, x] },
                ]).workers(1 + random.next(upTo: 3))
            case 0:
                stages.append("map")
                stage = op.map { (x: Origins) throws -> Origins in
                    recorder.touch(x)
                    if let failAt, x.ids.contains(failAt) { throw Broken() }
                    return x
                }
            case 1:
                stages.append("filter")
                stage = op.filter { (x: Origins) in recorder.touch(x); return !drop(x, 4) }
            case 2:
                stages.append("flatMap")
                stage = op.flatMap { (x: Origins) in
                    recorder.touch(x)
                    return Array(repeating: x, count: Int((UInt64(x.ids.reduce(0, +)) &+ salt) % 3))
                }
            case 3:
                let size = 1 + random.next(upTo: 6)
                stages.append("batch(\(size))")
                stage = op.batch(size) | op.map { (xs: [Origins]) in
                    let merged = Origins(ids: xs.flatMap(\.ids))
                    recorder.touch(merged)
                    return merged
                }
            case 4:
                let size = 1 + random.next(upTo: 6)
                stages.append("batch(\(size), within: 1h)")
                stage = op.batch(size, within: .seconds(3600)) | op.map { (xs: [Origins]) in
                    let merged = Origins(ids: xs.flatMap(\.ids))
                    recorder.touch(merged)
                    return merged
                }
            default:
                let workers = [1, 2, 4][random.next(upTo: 3)]
                let ordered = random.next(upTo: 2) == 0
                stages.append("asyncMap.workers(\(workers))\(ordered ? "" : ".unordered()")")
                let yields = random.next(upTo: 3)
                let async = op.map { (x: Origins) async throws -> Origins in
                    for _ in 0..<((x.ids.first ?? 0) % (yields + 1)) { await Task.yield() }
                    recorder.touch(x)
                    if let failAt, x.ids.contains(failAt) { throw Broken() }
                    return x
                }.workers(workers)
                stage = ordered ? async : async.unordered()
            }
            _ = position
            flow = flow | stage
        }
        self.flow = flow
    }
}

@Suite("Acknowledgement exactness")
struct AckExactnessTests {
    /// `SLUICE_ACK_SCENARIOS`, else a tenth of `SLUICE_SOAK_SCENARIOS` (the long soak runs grow this
    /// suite too), else 300.
    static var scenarios: Int {
        let env = ProcessInfo.processInfo.environment
        return env["SLUICE_ACK_SCENARIOS"].flatMap { Int($0) } ?? env["SLUICE_SOAK_SCENARIOS"].flatMap { Int($0) }.map { max(300, $0 / 10) } ?? 300
    }

    @Test("random pipelines acknowledge every completed delivery exactly once, after its descendants, and no incomplete one")
    func randomPipelines() async throws {
        let base = ProcessInfo.processInfo.environment["SLUICE_ACK_SEED"].flatMap { UInt64($0) } ?? 0xAC4_0000
        for i in 0..<UInt64(Self.scenarios) {
            try await run(seed: base &+ i)
        }
    }

    func run(seed: UInt64) async throws {
        let recorder = AckRecorder()
        let scenario = AckScenario(seed: seed, recorder: recorder)
        let failedByRailway = Lock<Set<Int>>([])
        let read = Counter(), consumed = Counter()
        let stop = GracefulStop()
        let all = deliveries(scenario.items)
        let ack: @Sendable (AckBatch<Int>) async throws -> Void = { recorder.record($0) }
        let maxBatch = 1 + Int(seed % 7)
        let source = (scenario.asyncSource
            ? AcknowledgedPipeline(maxBatch: maxBatch, acknowledge: ack, deliveries: { CountingDeliveries(all: all, read: read).async })
            : AcknowledgedPipeline(CountingDeliveries(all: all, read: read), maxBatch: maxBatch, acknowledge: ack))
            .withGracefulStop(stop)
            | scenario.flow
        let ending = scenario.ending, after = scenario.after
        /// Counts an output; ends the run the scenario's way once `after` were consumed. A stalled
        /// consumer lets everything upstream fill up now and then.
        let stalls = scenario.stallingConsumer
        @Sendable func count() async {
            let n = consumed.increment()
            if n == after && ending == .gracefulStop { stop.request() }
            if stalls && n % 7 == 0 { await yieldRepeatedly(50) }
        }
        let body: @Sendable () async throws -> Void = {
            if scenario.railway {
                let railway = source
                    | op.tryMap { (x: Origins) throws -> Origins in
                        recorder.touch(x)
                        if x.ids.reduce(0, +) % 5 == 1 {
                            failedByRailway.withLock { $0.formUnion(x.ids) }
                            throw AckScenario.Broken()
                        }
                        return x
                    }.named("validate")
                    | op.thenMap { (x: Origins) in x }
                try await railway.forEach { result in
                    if case .success(let x) = result { recorder.touch(x) }
                    await count()
                }
            } else {
                try await source.forEach {
                    recorder.touch($0)
                    await count()
                }
            }
        }
        var thrown: (any Error)?
        do {
            try await withDeadline {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask(operation: body)
                    if ending == .cancelled {
                        group.addTask {
                            await consumed.wait(atLeast: after)
                            throw CancellationError()   // cancels the run's task
                        }
                    }
                    // The first to end decides: the run (normally or with its error), or the cancellation.
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            thrown = error
        }
        #expect(recorder.violations() == [], "\(scenario)")
        let acks = recorder.acks
        let failedFast = scenario.failFastID.map { recorder.events[$0] != nil } ?? false
        if thrown is CancellationError && ending == .cancelled {
            // Cancelled: what was acknowledged had completed (checked above); nothing more to say.
        } else if failedFast && thrown != nil {
            // The failing descendant never completed.
            #expect(thrown is StageFailure, "\(scenario): \(String(describing: thrown))")
            #expect(!acks.contains { $0.id == scenario.failFastID }, "\(scenario): the failing item was acknowledged")
        } else {
            #expect(thrown == nil, "\(scenario): \(String(describing: thrown))")
            // Every delivery read was acknowledged: all of them, or those before a graceful stop.
            #expect(acks.map(\.id).sorted() == Array(0..<read.value), "\(scenario)")
            if ending != .gracefulStop || consumed.value < after { #expect(read.value == scenario.items, "\(scenario)") }
        }
        let railwayFailed = failedByRailway.withLock { $0 }
        for ack in acks {
            switch ack.outcome {
            case .completed:
                #expect(!railwayFailed.contains(ack.id), "\(scenario): \(ack.id) carried a failure but completed")
            case .failed(let failure):
                #expect(railwayFailed.contains(ack.id) && failure.stage == "validate", "\(scenario): \(ack.id) failed: \(failure)")
            }
        }
    }
}

/// Deliveries that count how many were read, as a sequence or an async sequence.
struct CountingDeliveries: Sequence, Sendable {
    let all: [Delivery<Int, Origins>]
    let read: Counter

    struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Delivery<Int, Origins>]>
        let read: Counter
        mutating func next() -> Delivery<Int, Origins>? {
            guard let d = base.next() else { return nil }
            read.increment()
            return d
        }
    }
    func makeIterator() -> Iterator { Iterator(base: all.makeIterator(), read: read) }

    /// The same deliveries, one `await` each.
    var async: AsyncCounting { AsyncCounting(all: all, read: read) }

    struct AsyncCounting: AsyncSequence, Sendable {
        let all: [Delivery<Int, Origins>]
        let read: Counter
        struct AsyncIterator: AsyncIteratorProtocol {
            var base: Iterator
            mutating func next() async throws -> Delivery<Int, Origins>? {
                await Task.yield()
                return base.next()
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: Iterator(base: all.makeIterator(), read: read)) }
    }
}
