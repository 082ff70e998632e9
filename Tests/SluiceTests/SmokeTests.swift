import Testing
import Sluice

@Test func smoke() async throws {
    let p = Pipeline(0..<10) | op.map { $0 * 2 } | op.filter { $0 % 3 == 0 } | op.map { $0 + 1 }
    #expect(try await p.collect() == [1, 7, 13, 19])
    let q = Pipeline(0..<1000) | op.map { (x: Int) async in x * 2 }.workers(4) | op.batch(10)
    #expect(try await q.count() == 100)
    let r = try await (Pipeline(0..<1000) | op.map { (x: Int) async in x }.workers(8)).collect()
    #expect(r == Array(0..<1000))
    var seen: [Int] = []
    for try await x in Pipeline(0..<5) | op.map({ $0 + 1 }) { seen.append(x) }
    #expect(seen == [1, 2, 3, 4, 5])
    let flow = Flow<Int, String> {
        Map { $0 * 2 }
        Filter { (x: Int) in x > 2 }
        Map { (x: Int) in String(x) }
    }
    #expect(try await flow([1, 2, 3]).collect() == ["4", "6"])
}
