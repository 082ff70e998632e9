// The folding terminals with a closure (`reduce(_:_:)`, `forEach`), given a closure that does not
// await and one that does: one overload each (see Terminals.swift), built on one batch fold.
import Testing
@testable import Sluice

@Suite struct ReduceTests {
    /// A function (`+`), a closure without `await` and one with it fold every output in order; a
    /// throw passes through unchanged.
    @Test func anyClosureFoldsInOrderAndRethrows() async throws {
        let p = Pipeline(1...200) | op.map { $0 * 3 } | op.filter { $0 % 2 == 0 }
        let expected = (1...200).map { $0 * 3 }.filter { $0 % 2 == 0 }
        #expect(try await p.reduce(0, +) == expected.reduce(0, +))
        #expect(try await p.reduce([Int]()) { $0 + [$1] } == expected)
        #expect(try await p.reduce([Int]()) { acc, x in await Task.yield(); return acc + [x] } == expected)
        struct Stop: Error, Equatable {}
        await #expect(throws: Stop.self) { try await p.reduce(0) { acc, x in if x > 30 { throw Stop() }; return acc + x } }
        await #expect(throws: Stop.self) {
            try await p.reduce(0) { acc, x in await Task.yield(); if x > 30 { throw Stop() }; return acc + x }
        }
    }
}

@Suite struct ForEachTests {
    /// A closure without `await` and one with it see every output in order; a throw passes
    /// through unchanged, and no output after it is seen.
    @Test func anyClosureSeesEveryOutputInOrderAndRethrows() async throws {
        let p = Pipeline(1...200) | op.map { $0 * 3 } | op.filter { $0 % 2 == 0 }
        let expected = (1...200).map { $0 * 3 }.filter { $0 % 2 == 0 }
        var inline: [Int] = []
        try await p.forEach { inline.append($0) }
        var awaited: [Int] = []
        try await p.forEach { x in await Task.yield(); awaited.append(x) }
        #expect(inline == expected && awaited == expected)
        struct Stop: Error {}
        var seen = 0
        await #expect(throws: Stop.self) { try await p.forEach { x in seen += 1; if x > 30 { throw Stop() } } }
        #expect(seen == expected.firstIndex { $0 > 30 }! + 1)
        seen = 0
        await #expect(throws: Stop.self) {
            try await p.forEach { x in await Task.yield(); seen += 1; if x > 30 { throw Stop() } }
        }
        #expect(seen == expected.firstIndex { $0 > 30 }! + 1)
    }
}
