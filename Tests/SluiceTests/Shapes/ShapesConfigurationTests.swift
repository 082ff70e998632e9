// Invalid shape configuration is rejected where it is written, naming the stage, parameter and value.
import Sluice
import Testing

@Suite struct ShapesConfigurationTests {
    @Test func branchesAndRoutes() async {
        let empty = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let none: [Flow<Int, Int>] = []
            _ = Broadcast<Int, Int> { for f in none { f } }
        }
        #expect(stderrText(empty).contains("broadcast needs at least one branch, got 0 (stage 'broadcast')"), "\(stderrText(empty))")
        let twice = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Route(by: { (x: Int) in x }) {
                When(1) { Map { (x: Int) in x } }
                When(1) { Map { (x: Int) in x } }
            }
        }
        #expect(stderrText(twice).contains("route lists key 1 twice (stage 'route')"), "\(stderrText(twice))")
        let sequential = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.broadcast(op.map { (x: Int) in x }, op.scan(0, +)).workers(2)
        }
        #expect(stderrText(sequential).contains("workers must be 1 for stage 'broadcast', got 2"), "\(stderrText(sequential))")
    }

    @Test func partitionedAndExpand() async {
        let window = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("apply").partitioned(by: { $0 }, window: 0)
        }
        #expect(stderrText(window).contains("window must be >= 1, got 0 (stage 'apply')"), "\(stderrText(window))")
        let batch = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.batch(2).partitioned(by: { (x: Int) in x })
        }
        #expect(stderrText(batch).contains("partitioned(by:) cannot apply to stage 'batch'"), "\(stderrText(batch))")
        let retry = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.expand { (x: Int) in (x, [x]) }.named("walk").retry(.attempts(2))
        }
        #expect(stderrText(retry).contains("retry cannot apply to stage 'walk' (expand): handle it inside the expansion's step"), "\(stderrText(retry))")
        let depth = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.expand(maxDepth: -1) { (x: Int) in (x, [x]) }
        }
        #expect(stderrText(depth).contains("maxDepth must be >= 0, got -1 (stage 'expand')"), "\(stderrText(depth))")
        let limit = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Expand(limit: 0) { (x: Int) in (x, [x]) }
        }
        #expect(stderrText(limit).contains("limit must be >= 1, got 0 (stage 'expand')"), "\(stderrText(limit))")
        let frontier = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.expand(frontier: 0) { (x: Int) in (x, [x]) }
        }
        #expect(stderrText(frontier).contains("frontier must be >= 1, got 0 (stage 'expand')"), "\(stderrText(frontier))")
    }
}
