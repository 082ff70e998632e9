// sluice-throughput: the workloads of the benchmark suite outside package-benchmark's harness
// (which blocks one of the two cooperative threads, see README.md), each with its baselines, in one
// process, printing the ratios of Docs/Performance.md. Best of `rounds` runs per implementation.
//
//   swift run --package-path Benchmarks -c release sluice-throughput [rounds] [workload…]
//   (workloads: w1 w3 w4 w5 heavy hashing crawl readahead w6 w7 w8 w9 w10; default: all)
import AsyncAlgorithms
import Foundation
import Sluice
import Synchronization

let rounds = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 5

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// Best wall time of `rounds` runs; every run must return `expected`.
func best(_ label: String, expected: Int, _ body: () async throws -> Int) async rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        let result = try await body()
        fastest = min(fastest, seconds(ContinuousClock.now - start))
        precondition(result == expected, "\(label): checksum \(result), expected \(expected)")
    }
    return fastest
}

func rate(_ n: Int, _ s: Double) -> String { "\(Double(Int(Double(n) / s / 1e5)) / 10) M items/s" }
func ratio(_ a: Double, _ b: Double) -> String { "\(Double(Int(a / b * 100)) / 100)×" }

@inline(never) func hash(_ x: Int, rounds: Int) -> Int {
    var h = UInt64(truncatingIfNeeded: x) &+ 0x9E37_79B9_7F4A_7C15
    for _ in 0..<rounds { h ^= h >> 33; h &*= 0xFF51_AFD7_ED55_8CCD; h ^= h >> 29 }
    return Int(truncatingIfNeeded: h & 0xFFFF)
}

struct CountingRange: AsyncSequence, Sendable {
    let n: Int
    struct AsyncIterator: AsyncIteratorProtocol {
        var i = 0
        let n: Int
        mutating func next() async -> Int? {
            guard i < n else { return nil }
            defer { i += 1 }
            return i
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(n: n) }
}

func w1() async throws {
    let n = ProcessInfo.processInfo.environment["W1_N"].flatMap(Int.init) ?? 1_000_000
    var expected = 0
    for x in 0..<n where (x * 2) % 3 == 0 { expected += x * 2 + 1 }
    if ProcessInfo.processInfo.environment["W1_SLUICE_ONLY"] == "measured" {
        let measured = try await best("Sluice default, measured", expected: expected) {
            let p = Pipeline(0..<n) | op.map { $0 * 2 } | op.filter { $0 % 3 == 0 } | op.map { $0 + 1 }
            return try await p.metrics(PipelineMetrics()).reduce(0, +)
        }
        print("W1 Sluice default, measured \(rate(n, measured))")
        return
    }
    if ProcessInfo.processInfo.environment["W1_SLUICE_ONLY"] == "into" {   // the sum with a synchronous closure
        let perStage = try await best("Sluice buffer(64) per stage, reduce(into:)", expected: expected) {
            let p = Pipeline(0..<n) | op.map { $0 * 2 }.buffer(64) | op.filter { $0 % 3 == 0 }.buffer(64) | op.map { $0 + 1 }.buffer(64)
            return try await p.reduce(into: 0) { $0 += $1 }
        }
        print("W1 Sluice buffer(64)/stage, reduce(into:) \(rate(n, perStage))")
        return
    }
    if ProcessInfo.processInfo.environment["W1_SLUICE_ONLY"] != nil {
        let perStage = try await best("Sluice buffer(64) per stage", expected: expected) {
            let p = Pipeline(0..<n) | op.map { $0 * 2 }.buffer(64) | op.filter { $0 % 3 == 0 }.buffer(64) | op.map { $0 + 1 }.buffer(64)
            return try await p.reduce(0, +)
        }
        print("W1 Sluice buffer(64)/stage \(rate(n, perStage))")
        return
    }
    let loop = await best("loop", expected: expected) {
        var s = 0
        for x in 0..<n { let y = x * 2; if y % 3 == 0 { s += y + 1 } }
        return s
    }
    let chain = await best("AsyncSequence chain", expected: expected) {
        await CountingRange(n: n).map { $0 * 2 }.filter { $0 % 3 == 0 }.map { $0 + 1 }.reduce(0, +)
    }
    let channels = try await best("AsyncChannel per stage", expected: expected) {
        try await withThrowingTaskGroup(of: Int.self) { group in
            let c1 = AsyncChannel<Int>(), c2 = AsyncChannel<Int>(), c3 = AsyncChannel<Int>()
            group.addTask { for x in 0..<n { await c1.send(x * 2) }; c1.finish(); return 0 }
            group.addTask { for await x in c1 where x % 3 == 0 { await c2.send(x) }; c2.finish(); return 0 }
            group.addTask { for await x in c2 { await c3.send(x + 1) }; c3.finish(); return 0 }
            var s = 0
            for await x in c3 { s += x }
            try await group.waitForAll()
            return s
        }
    }
    let streams = try await best("AsyncStream per stage", expected: expected) {
        try await withThrowingTaskGroup(of: Int.self) { group in
            let (s1, k1) = AsyncStream.makeStream(of: Int.self)
            let (s2, k2) = AsyncStream.makeStream(of: Int.self)
            let (s3, k3) = AsyncStream.makeStream(of: Int.self)
            group.addTask { for x in 0..<n { k1.yield(x * 2) }; k1.finish(); return 0 }
            group.addTask { for await x in s1 where x % 3 == 0 { k2.yield(x) }; k2.finish(); return 0 }
            group.addTask { for await x in s2 { k3.yield(x + 1) }; k3.finish(); return 0 }
            var s = 0
            for await x in s3 { s += x }
            try await group.waitForAll()
            return s
        }
    }
    let fused = try await best("Sluice default", expected: expected) {
        let p = Pipeline(0..<n) | op.map { $0 * 2 } | op.filter { $0 % 3 == 0 } | op.map { $0 + 1 }
        return try await p.reduce(0, +)
    }
    let perStage = try await best("Sluice buffer(64) per stage", expected: expected) {
        let p = Pipeline(0..<n) | op.map { $0 * 2 }.buffer(64) | op.filter { $0 % 3 == 0 }.buffer(64) | op.map { $0 + 1 }.buffer(64)
        return try await p.reduce(0, +)
    }
    let measured = try await best("Sluice default, measured", expected: expected) {
        let p = Pipeline(0..<n) | op.map { $0 * 2 } | op.filter { $0 % 3 == 0 } | op.map { $0 + 1 }
        return try await p.metrics(PipelineMetrics()).reduce(0, +)
    }
    print("W1 tiny stages (1 M items)")
    print("  plain loop \(rate(n, loop)); AsyncSequence chain \(rate(n, chain)); AsyncStream/stage \(rate(n, streams)); AsyncChannel/stage \(rate(n, channels))")
    print("  Sluice default \(rate(n, fused)) = \(ratio(chain, fused)) the AsyncSequence chain   (target ≥ 10×)")
    print("  Sluice default, measured (PipelineMetrics) \(rate(n, measured)) = \(ratio(fused, measured)) of unmeasured speed (target ≥ 0.8)")
    print("  Sluice buffer(64)/stage \(rate(n, perStage)) = \(ratio(channels, perStage)) AsyncChannel (target ≥ 150×), \(ratio(streams, perStage)) AsyncStream (target ≥ 50×)")
}

func w3() async throws {
    let n = 20_000, work = 5_500
    var expected = 0
    for x in 0..<n { expected &+= hash(x, rounds: work) }
    let loop = await best("loop", expected: expected) {
        var s = 0
        for x in 0..<n { s &+= hash(x, rounds: work) }
        return s
    }
    let one = try await best("workers(1)", expected: expected) {
        try await (Pipeline(0..<n) | op.map { hash($0, rounds: work) }.workers(1)).reduce(0, &+)
    }
    let two = try await best("workers(2)", expected: expected) {
        try await (Pipeline(0..<n) | op.map { hash($0, rounds: work) }.workers(2)).reduce(0, &+)
    }
    let unordered = try await best("workers(2).unordered()", expected: expected) {
        try await (Pipeline(0..<n) | op.map { hash($0, rounds: work) }.workers(2).unordered()).reduce(0, &+)
    }
    let group = await best("2-task group", expected: expected) {
        await withTaskGroup(of: Int.self) { group in
            for half in 0..<2 {
                group.addTask {
                    var s = 0
                    for x in stride(from: half, to: n, by: 2) { s &+= hash(x, rounds: work) }
                    return s
                }
            }
            return await group.reduce(0, &+)
        }
    }
    let buffered = try await best("workers(2).buffer(16)", expected: expected) {
        try await (Pipeline(0..<n) | op.map { hash($0, rounds: work) }.workers(2).buffer(16)).reduce(0, &+)
    }
    print("W3 CPU fan-out (\(n) items × ~20 µs)")
    print("  workers(2).buffer(16) (the parallel default before 2026-12-02): \(ratio(loop, buffered))")
    print("  workers(1) time = \(ratio(one, loop)) the loop's (target ≤ 1.05×); workers(2) speed = \(ratio(loop, two)) the loop's (target ≥ 1.85×)")
    print("  same run: workers(2).unordered() \(ratio(loop, unordered)), a 2-task group \(ratio(loop, group)) the loop's speed")
}

func w4() async throws {
    let n = ProcessInfo.processInfo.environment["W4_N"].flatMap(Int.init) ?? 5_000_000
    var expected = 0
    for x in 0..<n { expected &+= hash(x, rounds: 16) }
    if ProcessInfo.processInfo.environment["W4_SLUICE_ONLY"] != nil {
        let sluice = try await best("Sluice", expected: expected) {
            let p = Pipeline(0..<n) | op.map { $0 }.buffer(64)
            return try await p.reduce(into: 0) { $0 &+= hash($1, rounds: 16) }
        }
        print("W4 Sluice \(rate(n, sluice))")
        return
    }
    let channel = try await best("AsyncChannel", expected: expected) {
        try await withThrowingTaskGroup(of: Int.self) { group in
            let c = AsyncChannel<Int>()
            group.addTask { for x in 0..<n { await c.send(x) }; c.finish(); return 0 }
            var s = 0
            for await x in c { s &+= hash(x, rounds: 16) }
            try await group.waitForAll()
            return s
        }
    }
    let sluice = try await best("Sluice", expected: expected) {
        let p = Pipeline(0..<n) | op.map { $0 }.buffer(64)
        return try await p.reduce(into: 0) { $0 &+= hash($1, rounds: 16) }
    }
    print("W4 backpressure (5 M items, bound 64)")
    print("  Sluice \(rate(n, sluice)) = \(ratio(channel, sluice)) AsyncChannel (target ≥ 60×)")
}

func w5() async throws {
    let n = 2_000
    let expected = (0..<n).reduce(0, +)
    let ordered = try await best("ordered", expected: expected) {
        try await (Pipeline(0..<n) | op.map { (x: Int) async throws -> Int in
            try await Task.sleep(for: .microseconds(200)); return x
        }.workers(8)).reduce(0, +)
    }
    let unordered = try await best("unordered", expected: expected) {
        try await (Pipeline(0..<n) | op.map { (x: Int) async throws -> Int in
            try await Task.sleep(for: .microseconds(200)); return x
        }.workers(8).unordered()).reduce(0, +)
    }
    print("W5 ordered cost (workers(8), 200 µs each)")
    print("  ordered throughput = \(ratio(unordered, ordered)) unordered (target ≥ 0.9×)")
}

/// Busy work for about `duration` on this thread (a heavy synchronous item).
@inline(never) func spin(for duration: Duration) -> Int {
    let end = ContinuousClock.now + duration
    var n = 0
    while ContinuousClock.now < end { n &+= 1 }
    return n < 0 ? 1 : 0   // always 0, but the loop is not optimized away
}

/// Heavy synchronous items: 128 × 2 ms. `workers(2)` must keep both workers busy from the start.
func heavy() async throws {
    let n = 128
    let one = try await best("workers(1)", expected: 0) {
        try await (Pipeline(0..<n) | op.map { _ in spin(for: .milliseconds(2)) }.workers(1)).reduce(0, +)
    }
    let two = try await best("workers(2)", expected: 0) {
        try await (Pipeline(0..<n) | op.map { _ in spin(for: .milliseconds(2)) }.workers(2)).reduce(0, +)
    }
    print("Heavy synchronous items (128 × 2 ms)")
    print("  workers(2) speed = \(ratio(one, two)) workers(1)'s (target ≥ 1.8×)")
}

/// CPU hashing in chunks, the recipe of Docs/BlockingAndResources.md: 256 MB in 128 chunks.
func hashing() async throws {
    let chunkSize = 2 << 20, chunks = 128
    let data = (0..<(chunkSize * chunks)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    @Sendable func fnv(_ chunk: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBufferPointer { all in
            for b in all[(chunk * chunkSize)..<((chunk + 1) * chunkSize)] { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        return Int(truncatingIfNeeded: h & 0xFFFF)
    }
    var expected = 0
    for c in 0..<chunks { expected &+= fnv(c) }
    let loop = await best("loop", expected: expected) {
        var s = 0
        for c in 0..<chunks { s &+= fnv(c) }
        return s
    }
    let group = await best("2-task group", expected: expected) {
        await withTaskGroup(of: Int.self) { g in
            for w in 0..<2 {
                g.addTask {
                    var s = 0
                    for c in stride(from: w, to: chunks, by: 2) { s &+= fnv(c) }
                    return s
                }
            }
            return await g.reduce(0, &+)
        }
    }
    let sluice = try await best("workers(2)", expected: expected) {
        try await (Pipeline(0..<chunks) | op.map { fnv($0) }.workers(2)).reduce(0, &+)
    }
    print("CPU hashing (256 MB in 128 chunks)")
    print("  workers(2) time = \(ratio(sluice, group)) the 2-task group's (target ≤ 1.1×); loop \(ratio(loop, group)) the group's")
}

/// A crawl-like fan-out: 2,000 requests, `workers(32)`, 5–50 ms each and 2% taking 1 s.
func crawl() async throws {
    let n = 2_000
    var rng = SplitMix(seed: 42)
    let latencies: [Duration] = (0..<n).map { _ in
        rng.next() % 50 == 0 ? .seconds(1) : .milliseconds(5 + Int(rng.next() % 46))
    }
    let expected = (0..<n).reduce(0, +)
    let stage = op.map { (x: Int) async throws -> Int in
        try await Task.sleep(for: latencies[x])
        return x
    }.workers(32)
    let unordered = try await best("unordered", expected: expected) {
        try await (Pipeline(0..<n) | stage.unordered()).reduce(0, +)
    }
    let ordered = try await best("ordered", expected: expected) {
        try await (Pipeline(0..<n) | stage).reduce(0, +)
    }
    let wide = try await best("ordered(window: 1024)", expected: expected) {
        try await (Pipeline(0..<n) | stage.ordered(window: 1_024)).reduce(0, +)
    }
    print("Crawl-like fan-out (2,000 × 5–50 ms, 2% 1 s, workers(32))")
    print("  ordered (default window) throughput = \(ratio(unordered, ordered)) unordered (target ≥ 0.8×); window 1,024: \(ratio(unordered, wide))")
    print("  unordered \(Int(unordered * 1000)) ms, ordered \(Int(ordered * 1000)) ms, window 1,024 \(Int(wide * 1000)) ms")
}

/// How far ahead of the consumer the source is read, and the bound for a live source.
func readAhead() async throws {
    final class Pulls: Sendable {
        let pulled = Atomic<Int>(0)
        var count: Int { pulled.load(ordering: .relaxed) }
    }
    struct Counted: Sequence, Sendable {
        let pulls: Pulls
        func makeIterator() -> AnyIterator<Int> {
            var i = 0
            return AnyIterator { i += 1; pulls.pulled.add(1, ordering: .relaxed); return i }
        }
    }
    var worst = (take: 0, first: 0, loop: 0)
    for _ in 0..<20 {
        let a = Pulls(), b = Pulls(), c = Pulls()
        _ = try await (Pipeline(Counted(pulls: a)) | op.map { $0 * 1 }).take(3)
        _ = try await (Pipeline(Counted(pulls: b)) | op.map { $0 * 1 }).first()
        var seen = 0
        for try await _ in Pipeline(Counted(pulls: c)) | op.map({ $0 * 1 }) {
            seen += 1
            if seen == 5 { break }
        }
        worst = (max(worst.take, a.count), max(worst.first, b.count), max(worst.loop, c.count))
    }
    let live = Pipeline(AsyncStream<Int> { $0.finish() }) | op.map { (x: Int) async in x }.workers(8)
    print("Read-ahead (worst of 20 runs, 1 M-item source → map)")
    print("  take(3) read \(worst.take) (target ≤ 64); first() \(worst.first) (≤ 16); a loop of 5 \(worst.loop) (≤ 100)")
    print("  live source → map.workers(8), defaults: inFlightBound \(live.inFlightBound) (target ≤ 256)")
}

/// W9 fan-out/fan-in: two sources merged, each record broadcast to two branches (a 1 ms "write"
/// and a 1 ms "index"), 32 records in flight, both acknowledgements merged and counted. The
/// hand-written equivalent: a task group keeping 32 records in flight, each record's two calls
/// concurrent (`async let`), over the two sources one after the other.
func w9() async throws {
    let n = 1_000, width = 32
    let expected = 4 * n
    @Sendable func write(_ x: Int) async throws -> Int { try await Task.sleep(for: .milliseconds(1)); return x }
    @Sendable func index(_ x: Int) async throws -> Int { try await Task.sleep(for: .milliseconds(1)); return -x }
    let group = try await best("task group", expected: expected) {
        try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
            var items = Array(0..<n) + Array(n..<(2 * n))
            items.reverse()
            var count = 0
            func start() {
                guard let x = items.popLast() else { return }
                group.addTask {
                    async let a = write(x)
                    async let b = index(x)
                    _ = try await (a, b)
                    return 2
                }
            }
            for _ in 0..<width { start() }
            while let acks = try await group.next() {
                count += acks
                start()
            }
            return count
        }
    }
    let sluice = try await best("Sluice", expected: expected) {
        let records = Pipeline.merge(Pipeline(0..<n), Pipeline(n..<(2 * n)))
        let acks = records | op.broadcast(op.map(write), op.map(index)).workers(width).unordered()
        return try await acks.count()
    }
    let ordered = try await best("Sluice ordered", expected: expected) {
        let records = Pipeline.merge(Pipeline(0..<n), Pipeline(n..<(2 * n)))
        return try await (records | op.broadcast(op.map(write), op.map(index)).workers(width)).count()
    }
    let floor = Double(2 * n) / Double(width) * 0.001
    print("W9 fan-out/fan-in (merge of 2 × \(n) records → broadcast to 2 branches of 1 ms, \(width) in flight)")
    print("  floor \(Int(floor * 1000)) ms; task group \(Int(group * 1000)) ms; Sluice \(Int(sluice * 1000)) ms (unordered), \(Int(ordered * 1000)) ms (ordered)")
    print("  Sluice speed = \(ratio(group, sluice)) the task group's (unordered), \(ratio(group, ordered)) (ordered)   (target ≥ 0.9×)")
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// W6: three async stages, each on its own task; also `workers(4)` on the middle one.
@inline(never) func double(_ x: Int) async -> Int { x &* 2 }

func w6() async throws {
    let n = ProcessInfo.processInfo.environment["W6_N"].flatMap(Int.init) ?? 200_000
    var expected = 0
    for x in 0..<n { expected &+= x &* 8 }
    if let only = ProcessInfo.processInfo.environment["W6_SLUICE_ONLY"] {
        // For profiling: one Sluice run alone (`unordered`: workers(4) unordered on the middle stage).
        let middle = op.map { (x: Int) async in await double(x) }
        let label = only == "unordered" ? "workers(4) unordered" : only == "ordered" ? "workers(4) ordered" : "workers 1"
        let one = try await best("Sluice \(label)", expected: expected) {
            try await (Pipeline(0..<n) | op.map { (x: Int) async in await double(x) }
                | (only == "unordered" ? middle.workers(4).unordered() : only == "ordered" ? middle.workers(4) : middle)
                | op.map { (x: Int) async in await double(x) }).reduce(0, &+)
        }
        print("W6 Sluice \(label) \(ms(one))")
        return
    }
    let loop = await best("loop of awaits", expected: expected) {
        var s = 0
        for x in 0..<n { s &+= await double(await double(await double(x))) }
        return s
    }
    let chain = await best("AsyncSequence chain", expected: expected) {
        await CountingRange(n: n).map { await double($0) }.map { await double($0) }.map { await double($0) }.reduce(0, &+)
    }
    func pipeline(_ middle: Flow<Int, Int>) -> Pipeline<Int> {
        Pipeline(0..<n) | op.map { (x: Int) async in await double(x) } | middle | op.map { (x: Int) async in await double(x) }
    }
    let one = try await best("Sluice workers 1", expected: expected) {
        try await pipeline(op.map { (x: Int) async in await double(x) }).reduce(0, &+)
    }
    let ordered = try await best("Sluice workers(4) ordered", expected: expected) {
        try await pipeline(op.map { (x: Int) async in await double(x) }.workers(4)).reduce(0, &+)
    }
    let unordered = try await best("Sluice workers(4) unordered", expected: expected) {
        try await pipeline(op.map { (x: Int) async in await double(x) }.workers(4).unordered()).reduce(0, &+)
    }
    print("W6 three async stages (\(n) items)")
    print("  loop of awaits \(ms(loop)); AsyncSequence chain \(ms(chain)); Sluice workers 1 \(ms(one)) (\(ratio(one, chain)) the chain's time, target < 1×)")
    print("  workers(4) middle: ordered \(ms(ordered)), unordered \(ms(unordered)) = \(ratio(unordered, one)) of workers 1 (target ≤ 0.8×)")
}

/// W7: fan-out I/O, 100,000 × 100 µs sleeps, 256 in flight.
func w7() async throws {
    let n = 100_000, width = 256
    let expected = (0..<n).reduce(0, +)
    if ProcessInfo.processInfo.environment["W7_SLUICE_ONLY"] != nil {
        let sluice = try await best("Sluice workers(256) unordered", expected: expected) {
            try await (Pipeline(0..<n) | op.map { (x: Int) async throws -> Int in
                try await Task.sleep(for: .microseconds(100)); return x
            }.workers(width).unordered()).reduce(0, +)
        }
        print("W7 Sluice \(ms(sluice))")
        return
    }
    let group = try await best("task group", expected: expected) {
        try await withThrowingTaskGroup(of: Int.self) { g in
            var next = 0, sum = 0
            while next < min(width, n) { let x = next; g.addTask { try await Task.sleep(for: .microseconds(100)); return x }; next += 1 }
            while let x = try await g.next() {
                sum += x
                if next < n { let y = next; g.addTask { try await Task.sleep(for: .microseconds(100)); return y }; next += 1 }
            }
            return sum
        }
    }
    if ProcessInfo.processInfo.environment["W7_GROUP_ONLY"] != nil {
        print("W7 task group \(ms(group))")
        return
    }
    let sluice = try await best("Sluice workers(256) unordered", expected: expected) {
        try await (Pipeline(0..<n) | op.map { (x: Int) async throws -> Int in
            try await Task.sleep(for: .microseconds(100)); return x
        }.workers(width).unordered()).reduce(0, +)
    }
    print("W7 fan-out I/O (100,000 × 100 µs, 256 in flight)")
    print("  task group \(ms(group)); Sluice \(ms(sluice)) = \(ratio(sluice, group)) the group's time (target ≤ 1.3×)")
}

/// W8: W6's middle stage with each policy.
func w8() async throws {
    let n = ProcessInfo.processInfo.environment["W8_N"].flatMap(Int.init) ?? 100_000
    var expected = 0
    for x in 0..<n { expected &+= x &* 8 }
    func pipeline(_ middle: Flow<Int, Int>) -> Pipeline<Int> {
        Pipeline(0..<n) | op.map { (x: Int) async in await double(x) } | middle | op.map { (x: Int) async in await double(x) }
    }
    let stage = op.map { (x: Int) async in await double(x) }
    // `observe { _ in }` takes the closure as a synchronous observer (no `await` in it); the
    // same closure typed as a `StageObserver` is asynchronous, awaited for each event.
    let asyncObserver: StageObserver<Int> = { _ in }
    if ProcessInfo.processInfo.environment["W8_ONLY"] == "railway" {
        let t = try await best("railway", expected: expected) {
            try await (Pipeline(0..<n) | op.map { (x: Int) async in await double(x) }
                | op.tryMap { (x: Int) async throws in await double(x) } | op.successes()
                | op.map { (x: Int) async in await double(x) }).reduce(0, &+)
        }
        print("W8 railway \(ms(t))")
        return
    }
    if let only = ProcessInfo.processInfo.environment["W8_ONLY"] {
        // For profiling: one policy alone.
        let policy = only == "retry" ? stage.retry(.attempts(3)) : only == "timeout" ? stage.timeout(.seconds(60))
            : only == "retry-timeout" ? stage.retry(.attempts(3)).timeout(.seconds(60))
            : only == "timeout-retry" ? stage.timeout(.seconds(60)).retry(.attempts(3))
            : only == "timeout-observe" ? stage.timeout(.seconds(60)).observe { _ in }
            : only == "retry-observe" ? stage.retry(.attempts(3)).observe { _ in }
            : only == "timeout-retry-observe" ? stage.timeout(.seconds(60)).retry(.attempts(3)).observe { _ in }
            : only == "around" ? stage.around { x, next in try await next(x) }
            : only == "around-timeout" ? stage.around { x, next in try await next(x) }.timeout(.seconds(60))
            : only == "plain" ? stage : only == "observe-async" ? stage.observe(asyncObserver) : stage.observe { _ in }
        let t = try await best(only, expected: expected) { try await pipeline(policy).reduce(0, &+) }
        print("W8 \(only) \(ms(t))")
        return
    }
    let plain = try await best("plain", expected: expected) { try await pipeline(stage).reduce(0, &+) }
    let timeout = try await best("timeout", expected: expected) { try await pipeline(stage.timeout(.seconds(60))).reduce(0, &+) }
    let retry = try await best("retry", expected: expected) { try await pipeline(stage.retry(.attempts(3))).reduce(0, &+) }
    let observe = try await best("observe", expected: expected) { try await pipeline(stage.observe { _ in }).reduce(0, &+) }
    let observeAsync = try await best("observe async", expected: expected) { try await pipeline(stage.observe(asyncObserver)).reduce(0, &+) }
    let timedObserved = try await best("timeout observed", expected: expected) {
        try await pipeline(stage.timeout(.seconds(60)).observe { _ in }).reduce(0, &+)
    }
    let perAttemptObserved = try await best("timeout inside retry, observed", expected: expected) {
        try await pipeline(stage.timeout(.seconds(60)).retry(.attempts(3)).observe { _ in }).reduce(0, &+)
    }
    let around = try await best("middleware", expected: expected) {
        try await pipeline(stage.around { x, next in try await next(x) }).reduce(0, &+)
    }
    let aroundTimed = try await best("middleware + timeout", expected: expected) {
        try await pipeline(stage.around { x, next in try await next(x) }.timeout(.seconds(60))).reduce(0, &+)
    }
    let railway = try await best("railway", expected: expected) {
        try await (Pipeline(0..<n) | op.map { (x: Int) async in await double(x) }
            | op.tryMap { (x: Int) async throws in await double(x) } | op.successes()
            | op.map { (x: Int) async in await double(x) }).reduce(0, &+)
    }
    let measured = try await best("metrics", expected: expected) { try await pipeline(stage).metrics(PipelineMetrics()).reduce(0, &+) }
    print("W8 policies on W6's middle stage (\(n) items; time vs plain \(ms(plain)); targets: timeout ≤ 2×, others ≤ 1.5×)")
    print("  timeout \(ratio(timeout, plain)) (observed too \(ratio(timedObserved, plain))), retry \(ratio(retry, plain)), observe \(ratio(observe, plain)) (an async observer \(ratio(observeAsync, plain))), railway tryMap \(ratio(railway, plain)), metrics \(ratio(measured, plain))")
    print("  timeout inside retry, observed \(ratio(perAttemptObserved, plain)); middleware \(ratio(around, plain)), with a timeout around it \(ratio(aroundTimed, plain))")
}

/// W10: what acknowledgement costs. The same three stages (W1's map, filter, map; then W6's three
/// async stages) over deliveries that are acknowledged (in batches of 256, to a closure that
/// counts them) against a plain pipeline over the same values.
func w10() async throws {
    let n = 200_000
    var expected = 0
    for x in 0..<n where (x * 2) % 3 == 0 { expected += x * 2 + 1 }
    let values = Array(0..<n)
    let deliveries = values.map { Delivery(id: $0, element: $0) }
    let acked = Atomic<Int>(0)
    let syncStages = op.map { (x: Int) in x * 2 } | op.filter { $0 % 3 == 0 } | op.map { $0 + 1 }
    let plain = try await best("plain", expected: expected) {
        var s = 0
        try await (Pipeline(values) | syncStages).forEach { s += $0 }
        return s
    }
    let acknowledged = try await best("acknowledged", expected: expected) {
        acked.store(0, ordering: .relaxed)
        var s = 0
        let p = AcknowledgedPipeline(deliveries, acknowledge: { batch in
            acked.add(batch.acknowledgements.count, ordering: .relaxed)
        }) | syncStages
        try await p.forEach { s += $0 }
        precondition(acked.load(ordering: .relaxed) == n)
        return s
    }
    if ProcessInfo.processInfo.environment["W10_SYNC_ONLY"] != nil {   // for profiling the sync part alone
        print("W10 W1's stages: plain \(ms(plain)), acknowledged \(ms(acknowledged))")
        return
    }
    var expectedAsync = 0
    for x in 0..<n { expectedAsync &+= x &* 8 }
    let asyncStages = op.map { (x: Int) async in await double(x) } | op.map { (x: Int) async in await double(x) } | op.map { (x: Int) async in await double(x) }
    let plainAsync = try await best("plain async", expected: expectedAsync) {
        var s = 0
        try await (Pipeline(values) | asyncStages).forEach { s &+= $0 }
        return s
    }
    let acknowledgedAsync = try await best("acknowledged async", expected: expectedAsync) {
        var s = 0
        let p = AcknowledgedPipeline(deliveries, acknowledge: { (_: AckBatch<Int>) in }) | asyncStages
        try await p.forEach { s &+= $0 }
        return s
    }
    print("W10 acknowledged vs plain (\(n) items)")
    print("  W1's stages: plain \(ms(plain)) (\(rate(n, plain))), acknowledged \(ms(acknowledged)) (\(rate(n, acknowledged))): \(ratio(acknowledged, plain))")
    print("  W6's stages: plain \(ms(plainAsync)), acknowledged \(ms(acknowledgedAsync)): \(ratio(acknowledgedAsync, plainAsync))")
}

func ms(_ s: Double) -> String { "\(Int(s * 1000)) ms" }

let only = Set(CommandLine.arguments.dropFirst(2))
func selected(_ name: String) -> Bool { only.isEmpty || only.contains(name) }

print("sluice-throughput: best of \(rounds) runs each")
if selected("w1") { try await w1() }
if selected("w3") { try await w3() }
if selected("w4") { try await w4() }
if selected("w5") { try await w5() }
if selected("heavy") { try await heavy() }
if selected("hashing") { try await hashing() }
if selected("crawl") { try await crawl() }
if selected("readahead") { try await readAhead() }
if selected("w6") { try await w6() }
if selected("w7") { try await w7() }
if selected("w8") { try await w8() }
if selected("w9") { try await w9() }
if selected("w10") { try await w10() }
