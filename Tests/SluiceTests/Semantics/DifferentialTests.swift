// A seeded randomised differential test: hundreds of random pipelines, each compared with the same
// operations applied to an Array. Reproduce a failure with `SLUICE_SEED=<seed> swift test --filter Differential`.
import Foundation
import Testing
import Sluice
import SluiceTestSupport

@Suite(.timeLimit(.minutes(2)))
struct DifferentialTests {
    /// How many random pipelines one run checks (`SLUICE_PIPELINES` overrides).
    static let defaultCount = 300
    static let defaultSeed: UInt64 = 0x51_1C_E0_00

    @Test func randomPipelinesMatchTheSameOperationsOnAnArray() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["SLUICE_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let count = environment["SLUICE_PIPELINES"].flatMap { Int($0) } ?? Self.defaultCount
        var shapes = (ordered: 0, multiset: 0, regrouped: 0)
        for i in 0..<count {
            // Each pipeline has its own seed: `SLUICE_SEED=<seed>` replays it as the first one.
            let seed = base &+ UInt64(i)
            var rng = TestRandom(seed: seed)
            let scenario = Scenario.random(&rng)
            let pipeline = scenario.pipeline()
            let description = "\(scenario) — stages \(pipeline.stages)"
            // Every tenth pipeline runs twice: a pipeline is a reusable value.
            let runs = i % 10 == 0 ? 2 : 1
            var outputs: [[Value]] = []
            do {
                for _ in 0..<runs {
                    outputs.append(try await withDeadline(seconds: 30) { try await pipeline.collect() })
                }
            } catch {
                Issue.record("\(error) — seed \(seed): \(description)")
                return
            }
            let expected = scenario.reference()
            switch scenario.comparison {
            case .exact: shapes.ordered += 1
            case .multiset: shapes.multiset += 1
            case .regrouped: shapes.regrouped += 1
            }
            for actual in outputs {
                Self.compare(actual, expected, scenario.comparison, "seed \(seed): \(description)")
            }
        }
        // The generator really produces all three kinds of comparison.
        if count >= Self.defaultCount {
            #expect(shapes.ordered > 0 && shapes.multiset > 0 && shapes.regrouped > 0, "\(shapes)")
        }
    }

    static func compare(_ actual: [Value], _ expected: [Value], _ comparison: Comparison, _ context: String) {
        switch comparison {
        case .exact:
            #expect(actual == expected, "\(context)")
        case .multiset:
            #expect(actual.sorted() == expected.sorted(), "\(context)")
        case .regrouped:
            // A batch after a stage that reorders groups different items together: compare what
            // survives regrouping — every leaf, the number of outputs and the batch sizes.
            #expect(actual.flatMap(\.leaves).sorted() == expected.flatMap(\.leaves).sorted(), "leaves — \(context)")
            #expect(actual.count == expected.count, "count — \(context)")
            #expect(actual.map(\.size).sorted() == expected.map(\.size).sorted(), "batch sizes — \(context)")
        }
    }

    /// The comparison itself must be able to fail: a pipeline that drops an item is caught.
    @Test func theReferenceCatchesADifference() async throws {
        let scenario = Scenario(source: .array, input: [1, 2, 3], stages: [
            Stage(operation: .map(async: false, k: 1), workers: nil, buffer: nil, unordered: false),
        ])
        let wrong = try await (scenario.pipeline() | op.filter { (v: Value) in v != .int(15) }).collect()
        #expect(wrong != scenario.reference())
        #expect(try await scenario.pipeline().collect() == scenario.reference())
    }

    // MARK: values and operations

    /// What flows through a random pipeline: an integer, or a batch of values.
    indirect enum Value: Hashable, Comparable, Sendable, CustomStringConvertible {
        case int(Int)
        case list([Value])

        static func < (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.int(let x), .int(let y)): x < y
            case (.int, .list): true
            case (.list, .int): false
            case (.list(let xs), .list(let ys)): xs.lexicographicallyPrecedes(ys)
            }
        }

        var leaves: [Int] {
            switch self {
            case .int(let x): [x]
            case .list(let xs): xs.flatMap(\.leaves)
            }
        }

        /// Items in a batch (`-1` for an integer).
        var size: Int {
            if case .list(let xs) = self { return xs.count }
            return -1
        }

        var description: String {
            switch self {
            case .int(let x): "\(x)"
            case .list(let xs): "\(xs)"
            }
        }
    }

    // The operations act on every leaf of a batch, never on its grouping (a filter keeps every
    // batch, a flatMap unpacks it): so after a reordering stage the leaves stay comparable.

    static func bump(_ v: Value, _ k: Int) -> Value {
        switch v {
        case .int(let x): .int((x * 7 + k) % 1009)
        case .list(let xs): .list(xs.map { bump($0, k) })
        }
    }

    static func keep(_ v: Value, _ k: Int) -> Bool {
        if case .int(let x) = v { return (x + k) % 3 != 0 }
        return true
    }

    static func compact(_ v: Value, _ k: Int) -> Value? {
        if case .int(let x) = v, (x + k) % 4 == 0 { return nil }
        return bump(v, k)
    }

    /// 0–3 items for an integer; a batch's own items for a batch.
    static func expand(_ v: Value, _ k: Int) -> [Value] {
        switch v {
        case .int(let x): (0..<((x + k) % 4)).map { .int((x * 3 + k + $0) % 1009) }
        case .list(let xs): xs
        }
    }

    /// Lets other tasks run for some items, so completion order differs from input order.
    static func jitter(_ v: Value, _ k: Int) async {
        if (v.leaves.first ?? 0) % 3 == k % 3 { await Task.yield() }
    }

    /// An `AsyncSequence` of fixed items that yields now and then.
    struct Drip: AsyncSequence, Sendable {
        typealias Element = Value
        let items: [Value]

        struct AsyncIterator: AsyncIteratorProtocol {
            let items: [Value]
            var index = 0

            mutating func next() async -> Value? {
                guard index < items.count else { return nil }
                defer { index += 1 }
                if index % 3 == 2 { await Task.yield() }
                return items[index]
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(items: items) }
    }

    // MARK: scenarios

    enum Expansion: String { case array, asyncArray, asyncStream, drip }

    enum StreamOperation: String, CaseIterable { case scan, prefix, prefixWhile, dropFirst, dropWhile, distinct, distinctBy }

    /// The timed stages, on a test clock that never moves (so time never closes a batch): their
    /// size, weight and end-of-input rules; a drop buffer large enough never to drop.
    enum TimedOperation: String, CaseIterable { case batchWithin, weightedBatch, debounce, dropOldest, dropNewest }

    /// The sum of a value's leaves, for the stream operators' closures.
    static func weight(_ v: Value) -> Int { v.leaves.reduce(0, +) }

    enum Operation: CustomStringConvertible {
        case map(async: Bool, k: Int)
        case filter(async: Bool, k: Int)
        case compactMap(async: Bool, k: Int)
        case flatMap(Expansion, k: Int)
        /// `grouped`: options apply to `batch | map(wrap)` as one fragment.
        case batch(size: Int, grouped: Bool)
        /// A stream operator (sequential, order-sensitive): `scan`, `prefix`, `dropFirst`, `drop(while:)`, `distinct`.
        case stream(StreamOperation, k: Int)
        /// Graph shapes: `broadcast` to three branches (one asynchronous when `async`), `route` by
        /// weight to three branches (one the default), `map` partitioned by weight, `expand` with
        /// dedupe over a graph with cycles, `expand` without dedupe walking every path up to
        /// `depth` (a graph with cycles too), and a `broadcast` with such a walk in a branch.
        case broadcast(async: Bool, k: Int)
        case route(k: Int)
        case partitioned(k: Int)
        case expand(k: Int)
        case walk(k: Int, depth: Int)
        case broadcastWalk(k: Int)
        /// A timed stage (order-sensitive, like a stream operator).
        case timed(TimedOperation, k: Int)

        var description: String {
            switch self {
            case .map(let a, let k): "map(\(a ? "async" : "sync"), k: \(k))"
            case .filter(let a, let k): "filter(\(a ? "async" : "sync"), k: \(k))"
            case .compactMap(let a, let k): "compactMap(\(a ? "async" : "sync"), k: \(k))"
            case .flatMap(let e, let k): "flatMap(\(e.rawValue), k: \(k))"
            case .batch(let n, let g): "batch(\(n)\(g ? ", grouped" : ""))"
            case .stream(let s, let k): "\(s.rawValue)(k: \(k))"
            case .broadcast(let a, let k): "broadcast(\(a ? "async" : "sync"), k: \(k))"
            case .route(let k): "route(k: \(k))"
            case .partitioned(let k): "partitioned(k: \(k))"
            case .expand(let k): "expand(k: \(k))"
            case .walk(let k, let depth): "expand(maxDepth: \(depth), k: \(k))"
            case .broadcastWalk(let k): "broadcast(expand(maxDepth: \(1 + k % 2)), map)(k: \(k))"
            case .timed(let t, let k): "\(t.rawValue)(k: \(k))"
            }
        }

        /// A stream operator or a timed stage: no Array reference after a reordering stage.
        var isOrderSensitive: Bool {
            switch self {
            case .stream, .timed: true
            default: false
            }
        }

        var isBatch: Bool {
            if case .batch = self { return true }
            return false
        }

        /// One worker only (a precondition), and its output depends on the order of its input.
        var isSequential: Bool {
            switch self {
            case .batch, .stream: true
            case .timed(let t, _): t != .dropOldest && t != .dropNewest
            default: false
            }
        }
    }

    struct Stage: CustomStringConvertible {
        var operation: Operation
        var workers: Int?
        var buffer: Int?
        var unordered: Bool
        /// `.ordered(window:)` on an ordered parallel stage.
        var window: Int? = nil
        /// `.buffer(maxWeight:weight:)`, weighing a value by its description's length.
        var maxWeight: Int? = nil
        /// A policy that changes no output, on a `map`, `filter` or `compactMap`: a timeout that
        /// never fires (an async `map` with it alone runs its timed kernel), a retry that is
        /// never needed, an observer (synchronous, or asynchronous: awaited for each event), or
        /// an observed timeout, alone, around a retry or inside one (a kernel with a watchdog that
        /// interrupts),
        /// or a timeout around middleware (the generic path, whose watchdog interrupts too).
        var policy: Policy? = nil

        enum Policy: String { case timeout, retry, observe, observeAsync, observedTimeout, observedRetryTimeout, observedTimeoutRetry, aroundTimeout }

        /// Emits in completion order with several workers: the output order is not determined.
        var reorders: Bool {
            switch operation {
            case .expand, .walk, .broadcastWalk: true   // completion order, even with one worker (a stack, not a queue)
            case .partitioned: (workers ?? 1) > 1   // ordered within a key only
            default: unordered && (workers ?? 1) > 1
            }
        }

        var description: String {
            var text = operation.description
            if let policy { text += ".\(policy.rawValue)" }
            if let workers { text += ".workers(\(workers))" }
            if let buffer { text += ".buffer(\(buffer))" }
            if unordered { text += ".unordered()" }
            if let window { text += ".ordered(window: \(window))" }
            if let maxWeight { text += ".buffer(maxWeight: \(maxWeight))" }
            return text
        }

        func flow() -> Flow<Value, Value> {
            switch operation {
            case .batch(let size, grouped: true):
                let batch: Flow<Value, [Value]> = op.batch(size)
                return configured(batch | op.map { (xs: [Value]) in Value.list(xs) })
            case .batch(let size, grouped: false):
                let batch: Flow<Value, [Value]> = op.batch(size)
                return configured(batch) | op.map { (xs: [Value]) in Value.list(xs) }
            case .timed(.batchWithin, let k):
                let batch: Flow<Value, [Value]> = op.batch(1 + k % 5, within: .seconds(3_600), clock: TestClock())
                return configured(batch) | op.map { (xs: [Value]) in Value.list(xs) }
            case .timed(.weightedBatch, let k):
                let batch: Flow<Value, [Value]> = op.batch(maxWeight: 1 + k % 20, within: .seconds(3_600), clock: TestClock()) { (v: Value) in v.leaves.count }
                return configured(batch) | op.map { (xs: [Value]) in Value.list(xs) }
            case .timed(let drop, _) where drop == .dropOldest || drop == .dropNewest:
                // Options go on the stage before the buffer (a buffer that drops is a stage of its own).
                return configured(op.map { (v: Value) in v }).buffer(100_000, whenFull: drop == .dropOldest ? .dropOldest : .dropNewest)
            default:
                return configured(withPolicy(plainFlow()))
            }
        }

        private func withPolicy(_ flow: Flow<Value, Value>) -> Flow<Value, Value> {
            switch policy {
            case nil: flow
            case .timeout: flow.timeout(.seconds(3_600), clock: TestClock())
            case .retry: flow.retry(.attempts(2))
            case .observe: flow.observe { _ in }
            case .observeAsync: flow.observe { (_: StageEvent<Value>) async in await Task.yield() }
            case .observedTimeout:   // an async `map`: the observed kernel with a watchdog
                flow.timeout(.seconds(3_600), clock: TestClock()).observe { _ in }
            case .observedRetryTimeout:   // an async `map`: its kernel with a watchdog around the layered call
                flow.retry(.attempts(2)).timeout(.seconds(3_600), clock: TestClock()).observe { _ in }
            case .observedTimeoutRetry:   // an async `map`: the kernel whose work may restart, observed
                flow.timeout(.seconds(3_600), clock: TestClock()).retry(.attempts(2)).observe { _ in }
            case .aroundTimeout:   // middleware: the generic path, with a watchdog that interrupts
                flow.around { x, next in try await next(x) }.timeout(.seconds(3_600), clock: TestClock())
            }
        }

        private func configured<B>(_ flow: Flow<Value, B>) -> Flow<Value, B> {
            var flow = flow
            if let workers { flow = flow.workers(workers) }
            if let buffer { flow = flow.buffer(BufferSize(capacity: buffer)) }
            if unordered { flow = flow.unordered() }
            if let window { flow = flow.ordered(window: window) }
            if let maxWeight { flow = flow.buffer(maxWeight: maxWeight) { String(describing: $0).count } }
            return flow
        }

        private func plainFlow() -> Flow<Value, Value> {
            switch operation {
            case .map(false, let k):
                op.map { (v: Value) in bump(v, k) }
            case .map(true, let k):
                op.map { (v: Value) async in
                    await jitter(v, k)
                    return bump(v, k)
                }
            case .filter(false, let k):
                op.filter { (v: Value) in keep(v, k) }
            case .filter(true, let k):
                op.filter { (v: Value) async in
                    await jitter(v, k)
                    return keep(v, k)
                }
            case .compactMap(false, let k):
                op.compactMap { (v: Value) in compact(v, k) }
            case .compactMap(true, let k):
                op.compactMap { (v: Value) async in
                    await jitter(v, k)
                    return compact(v, k)
                }
            case .flatMap(.array, let k):
                op.flatMap { (v: Value) in expand(v, k) }
            case .flatMap(.asyncArray, let k):
                op.flatMap { (v: Value) async in
                    await jitter(v, k)
                    return expand(v, k)
                }
            case .flatMap(.asyncStream, let k):
                op.flatMap { (v: Value) -> AsyncStream<Value> in
                    let items = expand(v, k)
                    return AsyncStream { c in
                        for x in items { c.yield(x) }
                        c.finish()
                    }
                }
            case .flatMap(.drip, let k):
                op.flatMap { (v: Value) async in Drip(items: expand(v, k)) }
            case .batch:
                preconditionFailure("batch is built in flow()")
            case .stream(.scan, let k):
                op.scan(Value.int(k)) { (acc: Value, v: Value) in .int((weight(acc) + weight(v)) % 1009) }
            case .stream(.prefix, let k):
                op.prefix(k)
            case .stream(.prefixWhile, let k):
                op.prefix { (v: Value) in weight(v) % 50 != k % 50 }
            case .stream(.dropFirst, let k):
                op.dropFirst(k)
            case .stream(.dropWhile, let k):
                op.drop { (v: Value) in weight(v) % 50 != k % 50 }
            case .stream(.distinct, let k):
                op.distinct(window: 1 + k)
            case .stream(.distinctBy, let k):
                op.distinct(by: { (v: Value) in weight(v) % (1 + k) }, window: 1 + k % 7)
            case .broadcast(false, let k):
                op.broadcast(op.map { bump($0, k) } | op.filter { keep($0, k + 1) }, Flow(), op.flatMap { expand($0, k + 2) })
            case .broadcast(true, let k):
                op.broadcast {
                    op.map { (v: Value) async in
                        await jitter(v, k)
                        return bump(v, k)
                    } | op.filter { keep($0, k + 1) }
                    Flow()
                    op.flatMap { expand($0, k + 2) }
                }
            case .route(let k):
                op.route(by: { routeKey($0) }, [
                    0: op.map { (v: Value) async in
                        await jitter(v, k)
                        return bump(v, k)
                    },
                    1: op.filter { keep($0, k) } | op.map { bump($0, k + 1) },
                ], default: op.flatMap { expand($0, k) })
            case .partitioned(let k):
                op.map { (v: Value) async in
                    await jitter(v, k)
                    return bump(v, k)
                }.partitioned(by: { weight($0) % 5 }, window: 1 + k % 20)
            case .expand(let k):
                op.expand(dedupe: .custom { integersOnce() }) { (v: Value) async in
                    await jitter(v, k)
                    return (v, successors(v, k))
                }
            case .walk(let k, let depth):
                op.expand(maxDepth: depth) { (v: Value) async in
                    await jitter(v, k)
                    return (v, walkSuccessors(v, k))
                }
            case .broadcastWalk(let k) where k % 2 == 0:
                op.broadcast(op.expand(maxDepth: 1 + k % 2) { (v: Value) in (v, walkSuccessors(v, k)) }, op.map { bump($0, k) })
            case .broadcastWalk(let k):
                op.broadcast {
                    op.expand(maxDepth: 1 + k % 2) { (v: Value) async in
                        await jitter(v, k)
                        return (v, walkSuccessors(v, k))
                    }
                    op.map { bump($0, k) }
                }
            case .timed(.debounce, _):
                op.debounce(for: .seconds(3_600), clock: TestClock())
            case .timed:
                preconditionFailure("built in flow()")
            }
        }

        func apply(_ xs: [Value]) -> [Value] {
            switch operation {
            case .map(_, let k): xs.map { bump($0, k) }
            case .filter(_, let k): xs.filter { keep($0, k) }
            case .compactMap(_, let k): xs.compactMap { compact($0, k) }
            case .flatMap(_, let k): xs.flatMap { expand($0, k) }
            case .batch(let n, _):
                stride(from: 0, to: xs.count, by: n).map { .list(Array(xs[$0..<min($0 + n, xs.count)])) }
            case .stream(.scan, let k):
                runningResults(xs, Value.int(k)) { .int((weight($0) + weight($1)) % 1009) }
            case .stream(.prefix, let k): Array(xs.prefix(k))
            case .stream(.prefixWhile, let k): Array(xs.prefix { weight($0) % 50 != k % 50 })
            case .stream(.dropFirst, let k): Array(xs.dropFirst(k))
            case .stream(.dropWhile, let k): Array(xs.drop { weight($0) % 50 != k % 50 })
            case .stream(.distinct, let k): distinctReference(xs, window: 1 + k) { $0 }
            case .stream(.distinctBy, let k): distinctReference(xs, window: 1 + k % 7) { weight($0) % (1 + k) }
            case .broadcast(_, let k): xs.flatMap { [bump($0, k)].filter { keep($0, k + 1) } + [$0] + expand($0, k + 2) }
            case .route(let k):
                xs.flatMap { v -> [Value] in
                    switch routeKey(v) {
                    case 0: [bump(v, k)]
                    case 1: keep(v, k) ? [bump(v, k + 1)] : []
                    default: expand(v, k)
                    }
                }
            case .partitioned(let k): xs.map { bump($0, k) }
            case .expand(let k):
                // Every batch, and every distinct integer reachable from the inputs.
                xs.filter { $0.size >= 0 } + reachable(from: xs.filter { $0.size < 0 }, k)
            case .walk(let k, let depth): xs.flatMap { walks(from: $0, k, depth: depth) }
            case .broadcastWalk(let k): xs.flatMap { walks(from: $0, k, depth: 1 + k % 2) + [bump($0, k)] }
            case .timed(.batchWithin, let k):
                stride(from: 0, to: xs.count, by: 1 + k % 5).map { .list(Array(xs[$0..<min($0 + 1 + k % 5, xs.count)])) }
            case .timed(.weightedBatch, let k): weightedReference(xs, maxWeight: 1 + k % 20).map(Value.list)
            case .timed(.debounce, _): xs.last.map { [$0] } ?? []
            case .timed(.dropOldest, _), .timed(.dropNewest, _): xs
            }
        }
    }

    /// A route's key: an integer's residue; every batch takes branch 0 (the key must not depend on
    /// how items were grouped, or a regrouped run has no reference).
    static func routeKey(_ v: Value) -> Int {
        if case .int(let x) = v { return x % 3 }
        return 0
    }

    /// Dedupe for `expand`: each integer once; batches are never deduped (equal batches depend on
    /// how items were grouped).
    static func integersOnce() -> (Value) -> Bool {
        var seen = Set<Int>()
        return { v in
            guard case .int(let x) = v else { return true }
            return seen.insert(x).inserted
        }
    }

    /// The graph `expand` walks with dedupe: two successors per integer below 2,000, among the
    /// nodes 2,000–2,039, which lead to 0–2 of each other (cycles included).
    static func successors(_ v: Value, _ k: Int) -> [Value] {
        guard case .int(let x) = v else { return [] }
        if x < 2_000 { return [.int(2_000 + (x * 7 + k) % 40), .int(2_000 + (x + k) % 40)] }
        return (0..<((x + k) % 3)).map { .int(2_000 + (x * 3 + k + 11 * $0) % 40) }
    }

    /// The distinct integers reachable from `roots` (breadth first): what `expand` with dedupe visits.
    static func reachable(from roots: [Value], _ k: Int) -> [Value] {
        var seen = Set<Value>(), queue: [Value] = []
        for r in roots where seen.insert(r).inserted { queue.append(r) }
        var i = 0
        while i < queue.count {
            for s in successors(queue[i], k) where seen.insert(s).inserted { queue.append(s) }
            i += 1
        }
        return queue
    }

    /// The graph `expand` walks without dedupe: every integer leads to one or two of 0–22 (a graph
    /// with cycles, so only `maxDepth` ends the walk).
    static func walkSuccessors(_ v: Value, _ k: Int) -> [Value] {
        guard case .int(let x) = v else { return [] }
        let next = Value.int((x * 5 + k) % 23)
        return (x + k) % 3 == 0 ? [next] : [next, .int((x + k + 1) % 23)]
    }

    /// Every path from `v` of at most `depth` steps: one output per path (a batch has no successors).
    static func walks(from v: Value, _ k: Int, depth: Int) -> [Value] {
        [v] + (depth == 0 ? [] : walkSuccessors(v, k).flatMap { walks(from: $0, k, depth: depth - 1) })
    }

    /// Batches of total weight (leaf count) up to `maxWeight`, on an Array: an item that would go
    /// past it starts the next batch; a batch that reaches it is closed.
    static func weightedReference(_ xs: [Value], maxWeight: Int) -> [[Value]] {
        var out: [[Value]] = [], current: [Value] = [], total = 0
        for x in xs {
            let w = x.leaves.count
            if !current.isEmpty && total + w > maxWeight {
                out.append(current)
                (current, total) = ([], 0)
            }
            current.append(x)
            total += w
            if total >= maxWeight {
                out.append(current)
                (current, total) = ([], 0)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// `distinct` over a FIFO window of `window` keys, on an Array.
    static func distinctReference<K: Hashable>(_ xs: [Value], window: Int, key: (Value) -> K) -> [Value] {
        var held: [K] = [], out: [Value] = []
        for x in xs where !held.contains(key(x)) {
            held.append(key(x))
            if held.count > window { held.removeFirst() }
            out.append(x)
        }
        return out
    }

    /// `merge`, `concat` and `zip` split the input into fan-in inputs (a third each, or pairs).
    enum SourceKind: String { case array, asyncSequence, deferred, merge, concat, zip }

    enum Comparison { case exact, multiset, regrouped }

    struct Scenario: CustomStringConvertible {
        var source: SourceKind
        var input: [Int]
        var stages: [Stage]
        /// `zip`: items one input has beyond the input (never paired); the first when `zipLongerFirst`.
        var zipExtra = 0
        var zipLongerFirst = true

        var description: String {
            let zip = source == .zip && zipExtra > 0 ? " (the \(zipLongerFirst ? "first" : "second") input \(zipExtra) longer)" : ""
            return "\(source.rawValue) source of \(input.count)\(zip) | " + stages.map(\.description).joined(separator: " | ")
        }

        /// Ordered runs must match exactly. A reordering stage makes the run a multiset; a batch
        /// after one also regroups the items.
        var comparison: Comparison {
            if source == .merge { return stages.contains { $0.operation.isBatch } ? .regrouped : .multiset }
            guard let shuffle = stages.firstIndex(where: \.reorders) else { return .exact }
            return stages[(shuffle + 1)...].contains { $0.operation.isBatch } ? .regrouped : .multiset
        }

        func pipeline() -> Pipeline<Value> {
            let values = input.map(Value.int)
            var pipeline: Pipeline<Value> = switch source {
            case .array: Pipeline(values)
            case .asyncSequence: Pipeline(Drip(items: values))
            case .deferred: Pipeline<Value> { values }
            case .merge:
                Pipeline.merge(
                    Pipeline(values.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)),
                    Pipeline(Drip(items: values.enumerated().filter { $0.offset % 3 == 1 }.map(\.element))),
                    Pipeline(values.enumerated().filter { $0.offset % 3 == 2 }.map(\.element)) | op.map { (v: Value) async in v }.workers(3))
            case .concat:
                Pipeline.concat(
                    Pipeline(Array(values.prefix(values.count / 3))),
                    Pipeline(Drip(items: Array(values.dropFirst(values.count / 3).prefix(values.count / 3)))) | op.map { (v: Value) async in v }.workers(2),
                    Pipeline(Array(values.dropFirst(2 * (values.count / 3)))))
            case .zip:
                // Pairs up to the shorter input: the longer one's extra items are never paired.
                Pipeline.zip(Pipeline(values + zipExtras(first: true)) | op.map { (v: Value) async in v }.workers(2),
                             Pipeline(Drip(items: (values + zipExtras(first: false)).map { bump($0, 3) })))
                    | op.map { Value.list([$0.0, $0.1]) }
            }
            for stage in stages { pipeline = pipeline | stage.flow() }
            return pipeline
        }

        func zipExtras(first: Bool) -> [Value] {
            first == zipLongerFirst ? (0..<zipExtra).map { .int(5_000 + $0) } : []
        }

        func reference() -> [Value] {
            let values = input.map(Value.int)
            let start = source == .zip ? values.map { Value.list([$0, bump($0, 3)]) } : values
            return stages.reduce(start) { xs, stage in stage.apply(xs) }
        }

        static func random(_ rng: inout TestRandom) -> Scenario {
            // Mostly up to 200 items; sometimes more than one default buffer (256) or batch (1024).
            let size = switch rng.next(upTo: 20) {
            case 0, 1: 0
            case 2, 3: 1
            case 4, 5: 2 + rng.next(upTo: 8)
            case 6: 200 + rng.next(upTo: 2_000)
            default: rng.next(upTo: 201)
            }
            let input = (0..<size).map { _ in rng.next(upTo: 1000) }
            let source: SourceKind = switch rng.next(upTo: 13) {
            case 0..<6: .array
            case 6..<9: .asyncSequence
            case 9: .deferred
            case 10: .merge
            case 11: .concat
            default: .zip
            }
            var stages: [Stage] = []
            for _ in 0..<(1 + rng.next(upTo: 6)) {
                var stage = randomStage(&rng)
                // An order-sensitive stream operator after a reordering stage has no Array reference.
                if stage.operation.isOrderSensitive, source == .merge || stages.contains(where: \.reorders) {
                    stage.operation = .map(async: false, k: 1)
                }
                stages.append(stage)
            }
            var scenario = Scenario(source: source, input: input, stages: stages)
            if source == .zip {
                // Equal inputs, or one longer (with an empty input: one or both empty).
                scenario.zipExtra = rng.next(upTo: 3) == 0 ? 0 : 1 + rng.next(upTo: 80)
                scenario.zipLongerFirst = rng.next(upTo: 2) == 0
            }
            return scenario
        }

        static func randomStage(_ rng: inout TestRandom) -> Stage {
            let k = rng.next(upTo: 100)
            let async = rng.next(upTo: 2) == 0
            let operation: Operation = switch rng.next(upTo: 19) {
            case 0, 1: .map(async: async, k: k)
            case 2, 3: .filter(async: async, k: k)
            case 4: .compactMap(async: async, k: k)
            case 5, 6:
                .flatMap([.array, .asyncArray, .asyncStream, .drip][rng.next(upTo: 4)], k: k)
            case 7, 8: .batch(size: 1 + rng.next(upTo: 5), grouped: rng.next(upTo: 2) == 0)
            case 9, 10: .timed(TimedOperation.allCases[rng.next(upTo: TimedOperation.allCases.count)], k: k)
            case 13: .broadcast(async: async, k: k)
            case 14: .route(k: k)
            case 15: .partitioned(k: k)
            case 16: .expand(k: k)
            case 17: .walk(k: k, depth: rng.next(upTo: 3))
            case 18: .broadcastWalk(k: k)
            default:
                .stream(StreamOperation.allCases[rng.next(upTo: StreamOperation.allCases.count)], k: k)
            }
            // A batch keeps state across items: more than one worker is a precondition failure.
            let workers: Int? = if operation.isSequential {
                rng.next(upTo: 3) == 0 ? 1 : nil
            } else {
                rng.next(upTo: 2) == 0 ? nil : 1 + rng.next(upTo: 8)
            }
            let buffer: Int? = rng.next(upTo: 2) == 0 ? nil : rng.next(upTo: 9)
            let unordered = rng.next(upTo: 3) == 0
            let window: Int? = !unordered && (workers ?? 1) > 1 && rng.next(upTo: 3) == 0 ? 1 + rng.next(upTo: 8) : nil
            let maxWeight: Int? = rng.next(upTo: 10) == 0 ? 1 + rng.next(upTo: 12) : nil
            var stage = Stage(operation: operation, workers: workers, buffer: buffer, unordered: unordered, window: window, maxWeight: maxWeight)
            switch operation {
            case .map, .filter, .compactMap:
                if rng.next(upTo: 4) == 0 { stage.policy = [.timeout, .timeout, .retry, .observe, .observeAsync, .observedTimeout, .observedRetryTimeout, .observedTimeoutRetry, .aroundTimeout][rng.next(upTo: 9)] }
            default:
                break
            }
            return stage
        }
    }
}
