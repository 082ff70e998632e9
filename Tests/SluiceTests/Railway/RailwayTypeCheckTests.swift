// 10-stage railway chains in both styles: they must keep compiling quickly (Docs/Railway.md has the
// measured times and the command to re-measure) and build the same graph.
import Testing
import Sluice

@Suite struct RailwayTypeCheckTests {
    static func piped() -> Pipeline<Result<Int, StageFailure>> {
        Pipeline(1...20)
            | op.tryMap { (x: Int) throws -> Int in if x.isMultiple(of: 5) { throw RailBoom(id: x) }; return x + 1 }
            | op.thenMap { (x: Int) in x * 2 }
            | op.thenFilter { (x: Int) in x > 4 }
            | op.thenForEach { (x: Int) in _ = x }
            | op.thenFlatMap { (x: Int) in [x, x] }
            | op.thenMap { (x: Int) in String(x) }
            | op.mapFailure { (f: StageFailure) in f }
            | op.thenMap { (s: String) throws -> Int in if s.hasSuffix("8") { throw RailBoom(id: 8) }; return s.count }
            | op.thenMap { (x: Int) async in x - 1 }
            | op.thenFilter { (x: Int) in x != 7 }
    }

    /// The same chain with `$0` everywhere (no generic initializer: see DESIGN §4).
    static func pipedWithDollarZero() -> Pipeline<Result<Int, StageFailure>> {
        Pipeline(1...20)
            | op.tryMap { if $0.isMultiple(of: 5) { throw RailBoom(id: $0) } else { $0 + 1 } }
            | op.thenMap { $0 * 2 }
            | op.thenFilter { $0 > 4 }
            | op.thenForEach { _ = $0 }
            | op.thenFlatMap { [$0, $0] }
            | op.thenMap { "\($0)" }
            | op.mapFailure { $0 }
            | op.thenMap { if $0.hasSuffix("8") { throw RailBoom(id: 8) } else { $0.count } }
            | op.thenMap { $0 - 1 }
            | op.thenFilter { $0 != 7 }
    }

    static let built = Flow<Int, Result<Int, StageFailure>> {
        TryMap { if $0.isMultiple(of: 5) { throw RailBoom(id: $0) } else { $0 + 1 } }
        ThenMap { (x: Int) in x * 2 }
        ThenFilter { (x: Int) in x > 4 }
        ThenForEach { (x: Int) in _ = x }
        ThenFlatMap { (x: Int) in [x, x] }
        ThenMap { (x: Int) in String(x) }
        MapFailure<String> { $0 }
        ThenMap { (s: String) throws -> Int in if s.hasSuffix("8") { throw RailBoom(id: 8) }; return s.count }
        ThenMap { (x: Int) async in x - 1 }
        ThenFilter { (x: Int) in x != 7 }
    }

    @Test func longRailwayChainsAgreeInBothStyles() async throws {
        let a = try await Self.piped().collect().map(railSummary)
        let b = try await Self.pipedWithDollarZero().collect().map(railSummary)
        let c = try await Self.built(1...20).collect().map(railSummary)
        #expect(a == b)
        #expect(a == c)
        #expect(Self.piped().stages == (Pipeline(1...20) | Self.built).stages)
        // 1…20: 5, 10, 15, 20 fail in tryMap; 1 is filtered out (2 · 2 = 4); 3, 8, 13 and 18 become
        // 8, 18, 28, 38, which fail in the second thenMap (twice each, after thenFlatMap).
        #expect(a.filter { $0.hasPrefix("fail tryMap") }.count == 4)
        #expect(a.filter { $0.hasPrefix("fail thenMap") }.count == 8)
    }
}
