// Every stage constructor takes sync, throwing, async and async-throwing closures, named functions
// and rooted key paths, in both front ends.
import Sluice
import Testing

struct Person: Sendable, Equatable {
    var name: String
    var age: Int
}

func describe(_ p: Person) -> String { "\(p.name) (\(p.age))" }
func isAdult(_ p: Person) async -> Bool { p.age >= 18 }
func parseAge(_ s: String) throws -> Int {
    guard let n = Int(s) else { throw Boom(code: 0) }
    return n
}
func nicknames(_ p: Person) async throws -> [String] { [p.name, p.name.lowercased()] }

@Suite struct ClosureShapesTests {
    static let people = [Person(name: "Ada", age: 36), Person(name: "Tim", age: 12)]

    @Test func keyPathsAndNamedFunctions() async throws {
        #expect(try await (Pipeline(Self.people) | op.map(\.name)).collect() == ["Ada", "Tim"])
        #expect(try await (Pipeline(Self.people) | op.map(describe)).collect() == ["Ada (36)", "Tim (12)"])
        #expect(try await (Pipeline(Self.people) | op.filter(isAdult) | op.map(\.age)).collect() == [36])
        #expect(try await (Pipeline(["1", "x"]) | op.compactMap { try? parseAge($0) }).collect() == [1])
        #expect(try await (Pipeline(Self.people) | op.flatMap(nicknames)).collect() == ["Ada", "ada", "Tim", "tim"])
        let built = Flow<Person, String> {
            Filter(isAdult)
            Map(\.name)
        }
        #expect(try await built(Self.people).collect() == ["Ada"])
    }

    @Test func syncThrowingAsyncAndAsyncThrowingClosures() async throws {
        let sync = op.map { (x: Int) in x + 1 }
        let throwing = op.map { (x: Int) throws -> Int in x + 1 }
        let async = op.map { (x: Int) async -> Int in x + 1 }
        let asyncThrowing = op.map { (x: Int) async throws -> Int in x + 1 }
        for flow in [sync, throwing, async, asyncThrowing] {
            #expect(try await flow([1, 2]).collect() == [2, 3])
        }
        #expect(try await (Pipeline([1, 2, 3]) | op.filter { (x: Int) async throws in x != 2 }).collect() == [1, 3])
        #expect(try await (Pipeline([1, 2, 3]) | op.compactMap { (x: Int) async in x == 2 ? nil : x }).collect() == [1, 3])
    }

    @Test func flatMapAcceptsSequencesAndAsyncSequences() async throws {
        let sync = op.flatMap { (x: Int) in [x, x] }
        let asyncSequence = op.flatMap { (x: Int) async in Array(repeating: x, count: 2) }
        let stream = op.flatMap { (x: Int) in
            AsyncStream<Int> { c in
                c.yield(x)
                c.yield(x)
                c.finish()
            }
        }
        for flow in [sync, asyncSequence, stream] {
            #expect(try await flow([1, 2]).collect() == [1, 1, 2, 2])
        }
        #expect(try await (Pipeline(["a b", "c"]) | op.flatMap { $0.split(separator: " ") }).collect() == ["a", "b", "c"])
    }

    @Test func forEachPassesItemsOn() async throws {
        let seen = Recorder<Int>()
        let p = Pipeline([1, 2, 3]) | op.forEach { seen.record($0) } | op.map { $0 * 10 }
        #expect(try await p.collect() == [10, 20, 30])
        #expect(seen.all == [1, 2, 3])
        let built = Flow<Int, Int> { ForEach { (x: Int) async in seen.record(x) } }
        #expect(try await built([4]).collect() == [4])
        #expect(seen.all == [1, 2, 3, 4])
    }

    @Test func applyingAFlowToAnAsyncSequence() async throws {
        let stream = AsyncStream<Int> { c in
            for i in 1...3 { c.yield(i) }
            c.finish()
        }
        #expect(try await op.map { (x: Int) in x * 2 }(stream).collect() == [2, 4, 6])
    }
}

import SluiceTestSupport
