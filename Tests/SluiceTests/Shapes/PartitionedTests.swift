// Per-key order with parallelism across keys: order within each key under random latencies, keys
// overtaking each other, one item per key at a time, the memory bound, failures and cancellation.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Synchronization
import Testing


struct Event: Sendable, Hashable {
    var user: Int
    var seq: Int
}

/// Tracks, per key, how many bodies run at once.
private final class PerKey: Sendable {
    let running = Lock<[Int: Int]>([:])
    let overlap = Atomic<Bool>(false)
    func enter(_ k: Int) {
        running.withLock { r in
            r[k, default: 0] += 1
            if r[k]! > 1 { overlap.store(true, ordering: .relaxed) }
        }
    }
    func leave(_ k: Int) { running.withLock { $0[k, default: 0] -= 1 } }
}

@Suite(.timeLimit(.minutes(1))) struct PartitionedTests {
    static func events(users: Int, each: Int, seed: UInt64) -> [Event] {
        var rng = TestRandom(seed: seed)
        var next = Array(repeating: 0, count: users), out: [Event] = []
        while out.count < users * each {
            let u = rng.next(upTo: users)
            guard next[u] < each else { continue }
            out.append(Event(user: u, seq: next[u]))
            next[u] += 1
        }
        return out
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func orderWithinEachKeyHoldsUnderRandomLatencies(seed: UInt64) async throws {
        let input = Self.events(users: 12, each: 40, seed: seed)
        let perKey = PerKey()
        let flow: Flow<Event, Event> = op.map { (e: Event) async -> Event in
            perKey.enter(e.user); defer { perKey.leave(e.user) }
            // A random latency without sleeping: a number of yields that depends on the item.
            for _ in 0..<((e.user * 7 + e.seq * 13) % 17) { await Task.yield() }
            return e
        }.workers(8).partitioned(by: \.user)
        for _ in 0..<5 {
            let out = try await withDeadline { try await flow(input).collect() }
            #expect(out.sorted { ($0.user, $0.seq) < ($1.user, $1.seq) } == input.sorted { ($0.user, $0.seq) < ($1.user, $1.seq) })
            for u in 0..<12 { #expect(out.filter { $0.user == u }.map(\.seq) == Array(0..<40)) }
        }
        let overlapped = perKey.overlap.load(ordering: .relaxed)
        #expect(!overlapped)   // one item per key at a time
    }

    /// User 0's first event is held by a gate; every other user's events get through meanwhile.
    @Test func differentKeysOvertakeASlowKey() async throws {
        let gate = Gate()
        let input = (0..<4).flatMap { seq in (0..<5).map { Event(user: $0, seq: seq) } }
        let flow: Flow<Event, Event> = op.map { (e: Event) async throws -> Event in
            if e.user == 0 && e.seq == 0 { try await gate.wait() }
            return e
        }.workers(8).partitioned(by: \.user)
        let (others, slow) = try await withDeadline {
            try await flow(input).open { outputs in
                var iterator = outputs.makeAsyncIterator()
                var others: [Event] = []
                while others.count < 16, let e = try await iterator.next() { others.append(e) }
                gate.open()
                var slow: [Event] = []
                while let e = try await iterator.next() { slow.append(e) }
                return (others, slow)
            }
        }
        #expect(Set(others.map(\.user)) == [1, 2, 3, 4])
        #expect(slow.map(\.seq) == [0, 1, 2, 3] && slow.allSatisfy { $0.user == 0 })
    }

    /// With the slow key's first item stuck, the window fills with its items only: every other key's
    /// items pass, then the input waits (memory bounded).
    @Test func aSlowKeyHoldsOnlyItsOwnItemsAndTheInputWaits() async throws {
        let gate = Gate(), done = Counter(), pulled = Counter()
        let flow: Flow<Int, Int> = op.map { (x: Int) async throws -> Int in
            if x == 0 { try await gate.wait() }
            done.increment()
            return x
        }.workers(4).partitioned(by: { $0 % 2 }, window: 8).buffer(1_000)
        // Evens are the slow key; odd items keep passing until the window holds 8 evens.
        let p = Pipeline(CountingSequence(count: 10_000, pulled: pulled)) | flow
        let bound = p.inFlightBound
        async let run = p.count()
        await done.wait(atLeast: 8)
        await yieldRepeatedly()
        let passed = done.value, read = pulled.value
        #expect(passed >= 8 && passed <= 9 + 4)   // the odds before the window filled with evens
        #expect(read <= bound, "read \(read), bound \(bound)")
        gate.open()
        #expect(try await run == 10_000)
    }

    @Test func aFailureFailsTheRunAndStopsEveryWorker() async throws {
        let running = HighWater()
        let flow: Flow<Int, Int> = op.map { (x: Int) async throws -> Int in
            running.enter(); defer { running.leave() }
            if x == 7 { throw ShapeBoom() }
            if x % 3 == 1 && x > 7 { try await Gate().wait() }
            return x
        }.named("apply").workers(4).partitioned(by: { $0 % 3 })
        let (items, error) = await readUntilFailure(flow(0..<100))
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "apply" && failure.item as? Int == 7)
        #expect(!items.contains(7) && Set(items).isSubset(of: Set(0..<100)))
        #expect(running.current == 0)
    }

    /// With one worker the stage keeps input order, and a failure keeps the exact prefix — the
    /// outputs an expansion made before its failing child included.
    @Test func oneWorkerKeepsInputOrderAndTheExactPrefix() async throws {
        let flow: Flow<Int, Int> = (op.flatMap { (x: Int) in [x, x + 100] } | op.map { (x: Int) throws -> Int in
            if x == 102 { throw ShapeBoom() }
            return x
        }).partitioned(by: { $0 % 2 })
        let (items, error) = await readUntilFailure(flow([0, 1, 2, 3]))
        #expect(items == [0, 100, 1, 101, 2])
        #expect((error as? StageFailure)?.item as? Int == 102)
        #expect(try await op.map { (x: Int) async in x }.partitioned(by: { $0 % 3 })(0..<500).collect() == Array(0..<500))
    }

    /// A stage after a partitioned one fails: everything upstream is halted, input first, and a
    /// worker woken by its halted input is not a body that cancelled itself (soak seed 84590611:
    /// the run ended with CancellationError instead of the failure).
    @Test func aFailureDownstreamStaysTheRunsFailure() async throws {
        for _ in 0..<100 {
            let p = Pipeline.merge(Pipeline(0..<20), Pipeline(20..<40))
                | op.map { (x: Int) async in x }.workers(4).partitioned(by: { $0 % 3 })
                | op.map { (x: Int) throws -> Int in
                    if x == 13 { throw ShapeBoom() }
                    return x
                }.workers(2)
            let (_, error) = await readUntilFailure(p)
            #expect((error as? StageFailure)?.underlying is ShapeBoom, "\(String(describing: error))")
        }
    }

    @Test func anUpstreamFailureIsPassedOnAfterEveryItemBeforeIt() async throws {
        let p = Pipeline(CountingAsyncSequence(count: 10, failAt: 6)) | op.map { (x: Int) async in x }.workers(3).partitioned(by: { $0 % 2 })
        let (items, error) = await readUntilFailure(p)
        #expect(items.sorted() == [0, 1, 2, 3, 4, 5])
        #expect((error as? StageFailure)?.stage == "source")
    }

    @Test func aCancelledCallerStopsEveryWorker() async throws {
        let running = HighWater(), started = Counter()
        let flow: Flow<Int, Int> = op.map { (x: Int) async throws -> Int in
            running.enter(); defer { running.leave() }
            started.increment()
            try await Gate().wait()
            return x
        }.workers(4).partitioned(by: { $0 })
        await expectCancellationStopsEverything(flow(0..<100), started: started, atLeast: 4, running: running)
    }

    /// Policies written after `partitioned(by:)` wrap the per-item call, as written before it.
    @Test func policiesWrapThePerItemCall() async throws {
        let attempts = Lock<[Int: Int]>([:])
        let flaky: @Sendable (Int) async throws -> Int = { x in
            let n = attempts.withLock { a -> Int in
                a[x, default: 0] += 1
                return a[x]!
            }
            if x % 5 == 0 && n < 3 { throw ShapeBoom() }
            return x
        }
        let after = op.map(flaky).workers(4).partitioned(by: { $0 % 3 }).retry(.attempts(3), clock: ImmediateClock())
        #expect(try await after(0..<50).collect().sorted() == Array(0..<50))
        #expect(attempts.withLock { $0[10] } == 3)
        #expect(after.mermaid.contains("retry ×3"))
        let before = op.map(flaky).retry(.attempts(3), clock: ImmediateClock()).workers(4).partitioned(by: { $0 % 3 })
        #expect(before.stages == after.stages)
    }

    @Test func bothFrontEndsDescribeTheSameStage() async throws {
        let pipe: Flow<Event, Int> = op.map { (e: Event) in e.seq }.named("seq").workers(8).partitioned(by: \.user)
        let builder = Flow<Event, Int> { Map { $0.seq }.named("seq").partitioned(by: \.user).workers(8) }
        #expect(pipe.stages == builder.stages)
        #expect(pipe.stages.description == "[seq: partitioned(workers: 8)[seq: map]]")
        #expect(pipe.mermaid.contains("seq: map · partitioned<br/>workers 8 · order per key"))
        // A flow of several stages, partitioned as one.
        let fragment = (op.map { (e: Event) in e } | op.filter { $0.seq > 0 }).partitioned(by: \.user).workers(2)
        #expect(try await fragment(Self.events(users: 3, each: 3, seed: 9)).collect().count == 6)
    }
}
