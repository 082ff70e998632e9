// Broadcast and route: array oracles, both front ends, backpressure, failing branches, cancellation.
import Sluice
import SluiceTestSupport
import Testing


@Suite(.timeLimit(.minutes(1))) struct BroadcastRouteTests {
    @Test(arguments: [1, 4])
    func broadcastDeliversEveryItemToEveryBranchInBranchOrder(workers: Int) async throws {
        let xs = Array(0..<300)
        let flow: Flow<Int, Int> = op.broadcast(
            op.map { $0 * 2 },
            op.map { (x: Int) async in x + 1000 } | op.filter { $0 % 3 != 0 },
            op.flatMap { (x: Int) in [x, -x] }).workers(workers)
        var expected: [Int] = []
        for x in xs {
            expected.append(x * 2)
            if (x + 1000) % 3 != 0 { expected.append(x + 1000) }
            expected += [x, -x]
        }
        #expect(try await flow(xs).collect() == expected)
        #expect(try await flow.unordered()(xs).collect().sorted() == expected.sorted())
        #expect(try await flow([]).collect() == [])
    }

    @Test func bothFrontEndsBuildTheSameBroadcastAndRoute() async throws {
        let pipe: Flow<Int, Int> = op.broadcast(op.map { $0 * 2 }, op.map { $0 + 1 } | op.filter { $0 > 0 }).workers(4)
        let closure: Flow<Int, Int> = op.broadcast {
            op.map { $0 * 2 }
            op.map { $0 + 1 } | op.filter { $0 > 0 }
        }.workers(4)
        let builder = Flow<Int, Int> {
            Broadcast {
                Map { $0 * 2 }
                Flow { Map { $0 + 1 }; Filter { $0 > 0 } }
            }.workers(4)
        }
        #expect(pipe.stages == builder.stages && closure.stages == builder.stages)
        #expect(pipe.mermaid == builder.mermaid)
        #expect(pipe.stages.description == "[broadcast(workers: 4)[branch 1: group[map], branch 2: group[map, filter]]]")
        #expect(try await pipe([1, 2]).collect() == builder([1, 2]).collect())

        let routed: Flow<Int, Int> = op.route(by: { $0 % 2 == 0 }, [true: op.map { $0 / 2 }, false: op.map { 3 * $0 + 1 }])
        let built = Flow<Int, Int> {
            Route(by: { $0 % 2 == 0 }) {
                When(true) { Map { $0 / 2 } }
                When(false) { Map { 3 * $0 + 1 } }
            }
        }
        #expect(routed.stages == built.stages)
        #expect(routed.mermaid == built.mermaid)
        #expect(try await routed(1...20).collect() == built(1...20).collect())
    }

    /// The stage ends only after every branch has finished: a branch's `batch` flushes its last,
    /// partial batch at the end, behind everything else.
    @Test func broadcastFinishesOnlyWhenEveryBranchHasFinished() async throws {
        let flow: Flow<Int, Int> = op.broadcast(op.batch(3) | op.map { -$0.count }, op.map { (x: Int) async in x })
        #expect(try await flow(0..<7).collect() == [0, 1, -3, 2, 3, 4, -3, 5, 6, -1])
        let routed: Flow<Int, Int> = op.route(by: { $0 % 2 }, [0: op.batch(2) | op.map { -$0.count }], default: Flow())
        #expect(try await routed(0..<5).collect() == [1, -2, 3, -1])
    }

    /// The stage takes its next item only when every branch is done with the current one.
    @Test func backpressureFollowsTheSlowestBranch() async throws {
        let fast = Counter(), gate = Gate()
        let flow: Flow<Int, Int> = op.broadcast(
            op.map { (x: Int) in fast.increment(); return x },
            op.map { (x: Int) async throws -> Int in try await gate.wait(); return x })
        async let run = flow(0..<1_000).collect()
        await fast.wait(atLeast: 1)
        await yieldRepeatedly()
        #expect(fast.value == 1)   // the fast branch waits for the slow one
        gate.open()
        #expect(try await run.count == 2_000)
    }

    @Test func aFailingBranchFailsTheRunAfterThePrefixAndStopsTheOtherBranches() async throws {
        let running = HighWater()
        let flow: Flow<Int, Int> = op.broadcast(
            op.map { (x: Int) async throws -> Int in
                running.enter(); defer { running.leave() }
                if x >= 5 { try await Gate().wait() }   // never opened: only a cancellation ends it
                return x
            },
            op.map { (x: Int) throws -> Int in
                if x == 5 { throw ShapeBoom() }
                return -x
            }.named("check")).workers(3)
        let (items, error) = await readUntilFailure(flow(0..<100))
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "check" && failure.item as? Int == 5)
        #expect(items == (0..<5).flatMap { [$0, -$0] })
        #expect(running.current == 0)
    }

    @Test func railwayBranchesTurnFailuresIntoValues() async throws {
        let flow: Flow<Int, Result<Int, StageFailure>> = op.broadcast(
            op.tryMap { (x: Int) throws -> Int in
                if x == 2 { throw ShapeBoom() }
                return x
            },
            op.tryMap { (x: Int) in x * 10 })
        let (ok, failed) = try await flow(0..<4).partition()
        #expect(ok == [0, 0, 1, 10, 20, 3, 30])
        #expect(failed.map { $0.item as? Int } == [2])
    }

    @Test(arguments: [1, 8])
    func routeSendsEachItemToExactlyOneBranchAndKeepsInputOrder(workers: Int) async throws {
        let small = Counter(), large = Counter(), other = Counter()
        let flow: Flow<Int, String> = op.route(by: { $0 < 10 ? "small" : $0 < 100 ? "large" : "huge" }, [
            "small": op.map { (x: Int) async in small.increment(); return "s\(x)" },
            "large": op.map { (x: Int) in large.increment(); return "l\(x)" } | op.filter { $0.count < 4 },
        ], default: op.map { (x: Int) in other.increment(); return "o\(x)" }).workers(workers)
        let xs = Array((0..<200).reversed())
        let expected = xs.compactMap { x -> String? in
            x < 10 ? "s\(x)" : x < 100 ? ("l\(x)".count < 4 ? "l\(x)" : nil) : "o\(x)"
        }
        #expect(try await flow(xs).collect() == expected)
        #expect(small.value == 10 && large.value == 90 && other.value == 100)
    }

    @Test func anItemNoBranchTakesFailsTheRunUnlessThereIsADefault() async throws {
        let flow: Flow<String, String> = op.route(by: { $0 }, ["png": op.map { "image \($0)" }]).named("kind")
        let (items, error) = await readUntilFailure(flow(["png", "gif", "png"]))
        #expect(items == ["image png"])
        let failure = try #require(error as? StageFailure)
        #expect(failure.stage == "kind" && failure.item as? String == "gif")
        #expect("\(failure.underlying)" == "no branch for key gif")
        let withDefault = Flow<String, String> {
            Route(by: { $0 }) {
                When("png") { Map { "image \($0)" } }
                Otherwise { Map { "other \($0)" } }
            }
        }
        #expect(try await withDefault(["png", "gif"]).collect() == ["image png", "other gif"])
    }

    @Test func aCancelledCallerStopsEveryBranch() async throws {
        let running = HighWater(), started = Counter()
        let blocked: Flow<Int, Int> = op.map { (x: Int) async throws -> Int in
            running.enter(); defer { running.leave() }
            started.increment()
            try await Gate().wait()
            return x
        }
        for flow in [op.broadcast(blocked, blocked).workers(2), op.route(by: { $0 % 2 }, [0: blocked, 1: blocked]).workers(4)] {
            await expectCancellationStopsEverything(flow(0..<100), started: started, atLeast: started.value + 2, running: running)
        }
    }

    @Test func withAStalledConsumerBranchesStayWithinTheBound() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled))
            | op.broadcast(op.map { (x: Int) async in x }, op.flatMap { (x: Int) in [x, x] }).workers(4).buffer(8)
        let (value, bound) = await countWhileConsumerStalled(p, pulled, atLeast: 4)
        #expect(value <= bound, "pulled \(value), bound \(bound)")
    }
}
