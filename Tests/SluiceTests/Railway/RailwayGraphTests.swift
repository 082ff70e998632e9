// Both front ends build the same railway graph.
import Testing
import Sluice

@Suite struct RailwayGraphTests {
    @Test func pipeAndBuilderBuildTheSameRailway() {
        let fetch: @Sendable (Int) async throws -> String = { String($0) }
        let piped: Flow<Int, Int> =
            op.tryMap(fetch).workers(4).named("fetch")
            | op.thenFilter { (s: String) in !s.isEmpty }
            | op.thenForEach { (_: String) in }
            | op.thenFlatMap { (s: String) in Array(s) }.buffer(8)
            | op.thenMap { (c: Character) in c.isNumber }.unordered()
            | op.mapFailure { (f: StageFailure) in f }
            | op.recover { (_: StageFailure) in false }
            | op.tryFlatMap { (b: Bool) in [b ? 1 : 0] }
            | op.failures()
            | op.tryMap { (f: StageFailure) in f.attempts }
            | op.successes()
        let built = Flow<Int, Int> {
            TryMap(fetch).workers(4).named("fetch")
            ThenFilter { (s: String) in !s.isEmpty }
            ThenForEach { (_: String) in }
            ThenFlatMap { (s: String) in Array(s) }.buffer(8)
            ThenMap { (c: Character) in c.isNumber }.unordered()
            MapFailure<Bool> { f in f }
            Recover { (_: StageFailure) in false }
            TryFlatMap { (b: Bool) in [b ? 1 : 0] }
            Failures<Int>()
            TryMap { (f: StageFailure) in f.attempts }
            Successes<Int>()
        }
        #expect(piped.stages == built.stages)
        #expect(piped.stages.map(\.description) == [
            "fetch: tryMap(workers: 4)", "thenFilter", "thenForEach", "thenFlatMap(buffer: 8)",
            "thenMap(unordered)", "mapFailure", "recover", "tryFlatMap", "failures", "tryMap", "successes",
        ])
    }
}
