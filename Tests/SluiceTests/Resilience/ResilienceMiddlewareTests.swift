// Middleware: nesting order, changing input, output and error, short-circuiting, and how it
// orders with retry and timeout.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct ResilienceMiddlewareTests {
    @Test func laterMiddlewareWrapsEarlierMiddleware() async throws {
        let log = Recorder<String>()
        let flow = op.map { (x: Int) -> Int in
            log.record("body \(x)")
            return x
        }
        .around { x, next in
            log.record("A in"); defer { log.record("A out") }
            return try await next(x)
        }
        .around { x, next in
            log.record("B in"); defer { log.record("B out") }
            return try await next(x)
        }
        _ = try await flow.run(7)
        #expect(log.all == ["B in", "A in", "body 7", "A out", "B out"])
    }

    @Test func middlewareIsToldItsStagesName() async throws {
        let log = Recorder<String>()
        let span: NamedMiddleware<Int, Int> = { stage, x, next in
            log.record("\(stage) \(x)")
            return try await next(x)
        }
        // The name the stage has in the run, also when `named` is written after `around`.
        let piped = Pipeline([1, 2]) | op.map { $0 * 10 }.around(withStage: span).named("scale") | op.filter { $0 > 0 }.named("keep").around(withStage: span)
        #expect(try await piped.collect() == [10, 20])
        #expect(log.all.filter { $0.hasPrefix("scale") } == ["scale 1", "scale 2"])
        #expect(Set(log.all.filter { $0.hasPrefix("keep") }) == ["keep 10", "keep 20"])
        let unnamed = op.map { (x: Int) in x }.around { stage, x, next in
            log.record("unnamed: \(stage)")
            return try await next(x)
        }
        _ = try await unnamed.run(1)
        #expect(log.all.last == "unnamed: map")
        // The builder front end: same stage, same name.
        let built = Flow<Int, Int> { Map { $0 * 10 }.named("built").around(withStage: span) }
        #expect(try await built.run(3) == [30])
        #expect(log.all.last == "built 3")
        #expect(built.stages == (op.map { (x: Int) in x * 10 }.named("built").around(withStage: span) as Flow<Int, Int>).stages)
    }

    @Test func middlewareChangesTheInputAndTheOutput() async throws {
        let flow = op.map { (x: Int) in x * 10 }
            .around { x, next in try await next(x + 1).map { $0 + 5 } }
        #expect(try await flow.run(1) == [25])
        let built = Flow<Int, Int> { Map { $0 * 10 }.around { x, next in try await next(x + 1).map { $0 + 5 } } }
        #expect(try await built.run(1) == [25])
    }

    @Test func middlewareChangesTheError() async throws {
        struct Wrapped: Error { let inner: any Error }
        let flow = op.map { (_: Int) throws -> Int in throw Transient() }
            .around { x, next in
                do { return try await next(x) } catch { throw Wrapped(inner: error) }
            }
            .named("parse")
        let failure = await #expect(throws: StageFailure.self) { try await flow.run(3) }
        #expect((failure?.underlying as? Wrapped)?.inner is Transient)
        #expect(failure?.stage == "parse" && failure?.item as? Int == 3)
    }

    @Test func middlewareRecoversFromAnError() async throws {
        let p = Pipeline(1...4) | op.map { (x: Int) throws -> Int in
            if x == 3 { throw Transient() }
            return x
        }.around { x, next in
            do { return try await next(x) } catch is Transient { return [-x] }
        }
        #expect(try await p.collect() == [1, 2, -3, 4])
    }

    @Test func middlewareShortCircuits() async throws {
        let calls = Counter()
        let flow = op.map { (x: Int) -> Int in
            calls.increment()
            return x * 2
        }.around { x, next in
            if x == 0 { return [] }          // drop without calling the body
            if x < 0 { return [x] }          // answer without calling the body
            return try await next(x)
        }
        #expect(try await (Pipeline([0, -5, 3]) | flow).collect() == [-5, 6])
        #expect(calls.value == 1)
    }

    @Test func middlewareSeesEveryKindsOutputsAsAList() async throws {
        let seen = Recorder<[Int]>()
        let expand = op.flatMap { (x: Int) in [x, x] }.around { x, next in
            let out = try await next(x)
            seen.record(out)
            return out
        }
        #expect(try await expand.run(4) == [4, 4])
        let keep = op.filter { (x: Int) in x > 1 }.around { x, next in
            let out = try await next(x)
            seen.record(out)
            return out
        }
        #expect(try await (Pipeline([1, 2]) | keep).collect() == [2])
        #expect(seen.all == [[4, 4], [], [2]])
    }

    @Test func middlewareInsideRetrySeesEveryAttempt() async throws {
        let attempts = Attempts()
        let calls = Counter()
        let flaky = op.map { (x: Int) throws -> Int in
            if attempts.next(x) < 3 { throw Transient() }
            return x
        }
        _ = try await flaky.around { x, next in calls.increment(); return try await next(x) }.retry(.attempts(3)).run(1)
        #expect(calls.value == 3)
        calls.increment(by: -3)
        _ = try await flaky.retry(.attempts(3)).around { x, next in calls.increment(); return try await next(x) }.run(2)
        #expect(calls.value == 1)
    }

    @Test func middlewareOutsideRetrySeesTheFinalFailureWithItsAttempts() async throws {
        let errors = Recorder<String>()
        let flow = op.map { (_: Int) throws -> Int in throw Transient() }
            .retry(.attempts(2))
            .around { x, next in
                do { return try await next(x) } catch { errors.record("\(type(of: error))"); throw error }
            }
        let failure = await #expect(throws: StageFailure.self) { try await flow.run(1) }
        #expect(errors.all == ["Transient"])       // the closure's error, not yet a StageFailure
        #expect(failure?.attempts == 2)
    }

    @Test func middlewareCanRetryByItself() async throws {
        let attempts = Attempts()
        let flow = op.map { (x: Int) throws -> Int in
            if attempts.next(x) < 2 { throw Transient() }
            return x
        }.around { x, next in
            do { return try await next(x) } catch { return try await next(x) }
        }
        #expect(try await flow.run(5) == [5])
        #expect(attempts.count(5) == 2)
    }

    @Test func aShortCircuitedItemThatThrowsCountsOneAttempt() async throws {
        let flow = op.map { (x: Int) in x }.around { _, _ in throw Permanent() }
        let failure = await #expect(throws: StageFailure.self) { try await flow.run(1) }
        #expect(failure?.attempts == 1)
        #expect(failure?.underlying is Permanent)
    }
}
