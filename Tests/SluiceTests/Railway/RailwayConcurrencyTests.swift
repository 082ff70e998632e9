// The railway with workers(n) (every input once, failures keep their position) and cancellation
// (never turned into a failure value).
import Testing
import Sluice
import SluiceTestSupport

@Suite struct RailwayConcurrencyTests {
    struct Page: Sendable, CustomStringConvertible { var id: Int; var description: String { "page \(id)" } }
    struct Doc: Sendable, CustomStringConvertible { var id: Int; var description: String { "doc \(id)" } }
    struct Row: Sendable { var id: Int }

    /// Shuffles completion order a little between workers.
    static func work(_ id: Int) async {
        for _ in 0..<(id % 4) { await Task.yield() }
    }

    static func id(of failure: StageFailure) -> Int? {
        switch failure.item {
        case let x as Int: x
        case let p as Page: p.id
        case let d as Doc: d.id
        default: nil
        }
    }

    /// Where each input should leave the railway: "fetch", "parse", "store", or nil (success).
    static func expectedStage(_ x: Int) -> String? {
        if x.isMultiple(of: 7) { return "fetch" }
        if x.isMultiple(of: 5) { return "parse" }
        if x.isMultiple(of: 3) { return "store" }
        return nil
    }

    static let railway: Flow<Int, Result<Row, StageFailure>> =
        op.tryMap { (x: Int) async throws -> Page in
            await work(x)
            if x.isMultiple(of: 7) { throw RailBoom(id: x) }
            return Page(id: x)
        }.workers(4).named("fetch")
        | op.thenMap { (p: Page) async throws -> Doc in
            await work(p.id + 1)
            if p.id.isMultiple(of: 5) { throw RailBoom(id: p.id) }
            return Doc(id: p.id)
        }.workers(4).named("parse")
        | op.thenMap { (d: Doc) async throws -> Row in
            await work(d.id + 2)
            if d.id.isMultiple(of: 3) { throw RailBoom(id: d.id) }
            return Row(id: d.id)
        }.workers(4).named("store")

    @Test func mixedStreamThroughThreeStagesWithWorkersKeepsOrderAndEveryItem() async throws {
        let inputs = Array(1...300)
        let out = try await Self.railway(inputs).collect()
        var ids: [Int] = []
        for item in out {
            switch item {
            case .success(let row):
                #expect(Self.expectedStage(row.id) == nil, "\(row.id) should have failed")
                ids.append(row.id)
            case .failure(let failure):
                let id = try #require(Self.id(of: failure))
                #expect(failure.stage == Self.expectedStage(id), "\(failure)")
                #expect((failure.underlying as? RailBoom)?.id == id)
                ids.append(id)
            }
        }
        #expect(ids == inputs)   // each input exactly once, in input order
    }

    @Test func mixedStreamUnorderedStillHasEveryItemOnce() async throws {
        let inputs = Array(1...300)
        let unordered = Self.railway.unordered()
        let (successes, failures) = try await (Pipeline(inputs) | unordered).partition()
        let ids = successes.map(\.id) + failures.compactMap(Self.id(of:))
        #expect(ids.sorted() == inputs)
        #expect(failures.allSatisfy { $0.stage == Self.expectedStage(Self.id(of: $0)!) })
    }

    /// Item 0 fails only after item 1 has succeeded on the other worker: in ordered mode the
    /// failure still comes out first.
    @Test(.timeLimit(.minutes(1)))
    func aLateFailureKeepsItsPositionInOrderedMode() async throws {
        let done = Counter()
        let flow = op.tryMap { (x: Int) async throws -> Int in
            if x == 0 {
                await done.wait(atLeast: 1)
                throw RailBoom(id: 0)
            }
            done.increment()
            return x
        }.workers(2)
        #expect(try await flow(0..<4).collect().map(railSummary) == ["fail tryMap 0: boom 0", "ok 1", "ok 2", "ok 3"])
    }

    /// Flows whose stage waits on a gate, one per kind of railway closure.
    static func blockedFlows(_ gate: Gate, _ entered: Counter) -> [(String, Flow<Int, Result<Int, StageFailure>>)] {
        let wait: @Sendable (Int) async throws -> Int = { x in
            entered.increment()
            try await gate.wait()
            return x
        }
        return [
            ("tryMap", op.tryMap(wait)),
            ("thenMap", op.tryMap { (x: Int) in x } | op.thenMap(wait)),
            ("thenFilter", op.tryMap { (x: Int) in x } | op.thenFilter { (x: Int) in _ = try await wait(x); return true }),
            ("thenForEach", op.tryMap { (x: Int) in x } | op.thenForEach { (x: Int) in _ = try await wait(x) }),
            ("tryFlatMap", op.tryFlatMap { (x: Int) async throws -> [Int] in [try await wait(x)] }),
            ("tryFlatMap async sequence", op.tryFlatMap { (_: Int) in
                entered.increment()
                return RailNumbers(count: 3, gate: gate)
            }),
            ("thenFlatMap async sequence", op.tryMap { (x: Int) in x } | op.thenFlatMap { (_: Int) in
                entered.increment()
                return RailNumbers(count: 3, gate: gate)
            }),
        ]
    }

    @Test(.timeLimit(.minutes(1)), arguments: 0..<7)
    func cancellingTheCallerEndsTheRunWithCancellationErrorNotAFailureValue(_ index: Int) async throws {
        let gate = Gate(), entered = Counter(), seen = Recorder<String>()
        let (name, flow) = Self.blockedFlows(gate, entered)[index]
        // One group, so the recorder runs in the same worker, right after the stage's closure.
        let p = Pipeline([1, 2, 3]) | (flow | op.forEach { (r: Result<Int, StageFailure>) in seen.record(railSummary(r)) }).named("railway")
        let run = Task { try await p.collect() }
        await entered.wait(atLeast: 1)
        run.cancel()
        await #expect(throws: CancellationError.self, "\(name)") { try await run.value }
        #expect(seen.all.allSatisfy { !$0.hasPrefix("fail") }, "\(name): \(seen.all)")
    }

    @Test func aClosureThrowingCancellationErrorEndsTheRunInsteadOfFailingAnItem() async throws {
        let flows: [Flow<Int, Result<Int, StageFailure>>] = [
            op.tryMap { (_: Int) throws -> Int in throw CancellationError() },
            op.tryMap { (_: Int) async throws -> Int in throw CancellationError() },
            op.tryMap { (x: Int) in x } | op.thenMap { (_: Int) throws -> Int in throw CancellationError() },
            op.tryMap { (x: Int) in x } | op.thenFilter { (_: Int) throws -> Bool in throw CancellationError() },
            op.tryMap { (x: Int) in x } | op.thenForEach { (_: Int) async throws in throw CancellationError() },
            op.tryFlatMap { (_: Int) throws -> [Int] in throw CancellationError() },
            op.tryFlatMap { (_: Int) in AsyncThrowingStream<Int, any Error> { $0.finish(throwing: CancellationError()) } },
        ]
        for flow in flows {
            await #expect(throws: CancellationError.self, "\(flow.stages)") { try await flow([1, 2]).collect() }
        }
    }
}
