// Builds a scenario's pipeline with the real API — `op.*` with `|`, or the `Flow { … }` builder,
// chosen per stage — with every closure reporting to the run's probe.
import Sluice
import SluiceTestSupport

extension Soak {
    typealias Rail = Result<Value, StageFailure>

    /// A built pipeline: plain values, or `Result`s when it ends on the railway.
    enum Built: Sendable {
        case values(Pipeline<Value>)
        case rails(Pipeline<Rail>)

        var inFlightBound: Int {
            switch self {
            case .values(let p): p.inFlightBound
            case .rails(let p): p.inFlightBound
            }
        }

        var stages: [StageDescription] {
            switch self {
            case .values(let p): p.stages
            case .rails(let p): p.stages
            }
        }
    }

    /// A railway failure as a comparable value. An `underlying` that is not the injected fault
    /// shows up in the stage name, so it cannot go unnoticed.
    static func model(_ failure: StageFailure) -> FailureModel {
        let stage = failure.underlying is Fault ? failure.stage : "<underlying \(type(of: failure.underlying))>\(failure.stage)"
        return FailureModel(stage: stage, item: failure.item as? Value, attempts: failure.attempts)
    }

    static func failedValue(_ failure: StageFailure) -> Value {
        let m = model(failure)
        return .failed(stage: m.stage, item: m.item, attempts: m.attempts)
    }

    static func item(_ rail: Rail) -> Item {
        switch rail {
        case .success(let v): .success(v)
        case .failure(let f): .failure(model(f))
        }
    }

    struct PipelineBuilder {
        let scenario: Scenario
        let probe: Probe
        /// Timeouts race this clock, which never moves: they never fire, but their machinery runs.
        let frozenClock = TestClock()
        let pool: BlockingPool
        let qualified: [Int: String]
        /// Leaves inside a group: a timed stage cannot be one of a group's inner stages.
        let inGroups: Set<Int>

        init(scenario: Scenario, probe: Probe, pool: BlockingPool) {
            self.scenario = scenario
            self.probe = probe
            self.pool = pool
            qualified = Dictionary(uniqueKeysWithValues: scenario.flattened.map { ($0.leaf.id, $0.qualified) })
            inGroups = Set(scenario.nodes.flatMap { node -> [Int] in
                guard case .group = node else { return [] }
                return node.flattened().map(\.leaf.id)
            })
        }

        func runtime(_ leaf: Leaf, block: Int? = nil) -> LeafRuntime {
            LeafRuntime(leaf: leaf, qualified: qualified[leaf.id]!, faults: scenario.faults[leaf.id] ?? [:],
                        probe: probe, block: block)
        }

        // MARK: the pipeline

        func build() -> Built {
            let flows = scenario.nodes.map(flow)
            var pipeline: Pipeline<Value>
            if scenario.source == .applied {
                // `flow(sequence)`: callAsFunction on the first stage.
                pipeline = flows[0](ProbedSequence(count: scenario.count, probe: probe))
                pipeline = attach(flows.dropFirst(), to: pipeline)
            } else {
                pipeline = attach(flows[...], to: source())
            }
            // The metrics count what the buffers that drop drop.
            if scenario.flattened.contains(where: { $0.leaf.kind.isLossy }) { pipeline = pipeline.metrics(probe.metrics) }
            guard let open = scenario.openRail else { return .values(pipeline) }
            return .rails(pipeline | openRailFlow(open))
        }

        func attach(_ flows: ArraySlice<Flow<Value, Value>>, to pipeline: Pipeline<Value>) -> Pipeline<Value> {
            if scenario.sourceFront == .builder {
                let all = Array(flows)
                return pipeline | Flow<Value, Value> {
                    for f in all { f }
                }
            }
            return flows.reduce(pipeline) { $0 | $1 }
        }

        func source() -> Pipeline<Value> {
            let count = scenario.count, probe = self.probe, failAfter = scenario.sourceFailsAfter
            let failure = Fault(stage: "source", value: nil, attempt: 1)
            switch scenario.source {
            case .sequence, .applied:
                return Pipeline(ProbedSequence(count: count, probe: probe))
            case .stream:
                let stream = AsyncThrowingStream<Value, any Error> { c in
                    for i in 0..<min(count, failAfter ?? count) { c.yield(.int(i)) }
                    if failAfter != nil { c.finish(throwing: failure) } else { c.finish() }
                }
                return Pipeline(ProbedAsyncSequence(base: stream, probe: probe))
            case .unfolding:
                let cursor = Cursor()
                return Pipeline(AsyncThrowingStream<Value, any Error>(unfolding: {
                    probe.sourceCall()
                    let i = cursor.take()
                    if i % 4 == 3 { await Task.yield() }
                    if i == failAfter { throw failure }
                    guard i < count else { return nil }
                    probe.sourceItem()
                    return .int(i)
                }))
            case .drip:
                return Pipeline(Drip(items: (0..<count).map(Value.int), failAfter: failAfter, failure: failure,
                                     probe: probe, isSource: true))
            case .concat:
                let third = count / 3
                return Pipeline.concat(
                    Pipeline(ProbedSequence(count: third, probe: probe)),
                    Pipeline([Value]()),
                    Pipeline(ProbedSequence(count: count, probe: probe, start: third)) | op.map { (v: Value) async in v }.workers(2))
            case .merge:
                return Pipeline.merge(
                    Pipeline(ProbedSequence(count: count / 2, probe: probe)),
                    Pipeline(ProbedSequence(count: count, probe: probe, start: count / 2)))
            case .zip:
                // The items, paired with their partners (through an ordered two-worker stage) and
                // unzipped: `count` pairs, the shorter input's length; a failing input fails after
                // `sourceFailsAfter` items (fewer than the other input has).
                let (firstCount, secondCount) = scenario.zip.counts(count)
                let failingFirst = scenario.zip.failingFirst
                func input(_ n: Int, failing: Bool) -> Pipeline<Value> {
                    guard failing, let failAfter else { return Pipeline(ProbedSequence(count: n, probe: probe)) }
                    return Pipeline(Drip(items: (0..<n).map(Value.int), failAfter: failAfter, failure: failure, probe: probe, isSource: true))
                }
                let partners = input(secondCount, failing: !failingFirst) | op.map { (v: Value) async in Soak.partner(v) }.workers(2)
                return Pipeline.zip(input(firstCount, failing: failingFirst), partners) | op.map { (pair: (Value, Value)) in Soak.unzip(pair) }
            case .deferred:
                return Pipeline { () async throws -> ProbedSequence in
                    probe.sourceCall()
                    await Task.yield()
                    if failAfter != nil { throw failure }
                    return ProbedSequence(count: count, probe: probe)
                }
            }
        }

        // MARK: nodes

        func flow(_ node: Node) -> Flow<Value, Value> {
            switch node {
            case .leaf(let leaf): return leafFlow(leaf)
            case .rail(let block): return railFlow(block)
            case .group(let group):
                let children = group.children.map(flow)
                let joined: Flow<Value, Value> = group.options.front == .builder
                    ? Flow<Value, Value> { for c in children { c } }
                    : children.dropFirst().reduce(children[0]) { $0 | $1 }
                return configure(shaped(joined, group), group.options)
            }
        }

        /// A group's children as the graph shape it is run as (the same items in every shape).
        func shaped(_ joined: Flow<Value, Value>, _ group: Group) -> Flow<Value, Value> {
            let key: @Sendable (Value) -> Int = { abs($0.hashValue) % 3 }
            let builder = group.options.front == .builder
            switch group.shape {
            case .plain:
                return joined
            case .route where builder:
                return Flow<Value, Value> {
                    Route(by: key) {
                        When(0) { joined }
                        Otherwise { joined }
                    }
                }
            case .route:
                return op.route(by: key, [0: joined], default: joined)
            case .broadcast where builder:
                return Flow<Value, Value> {
                    Broadcast {
                        joined
                        Filter { _ in false }
                    }
                }
            case .broadcast:
                return op.broadcast(joined, op.filter { _ in false })
            case .partitioned:
                return joined.partitioned(by: key)
            }
        }

        /// Applies the options: policies first (timeout and retry in the order drawn), then
        /// workers, buffer, unordered and name in a random order.
        func configure<I, O>(_ flow: Flow<I, O>, _ o: Options) -> Flow<I, O> {
            var f = flow
            if o.around { f = f.around { x, next in try await next(x) } }
            if o.timeout == .beforeRetry || o.timeout == .aloneBeforeRetry { f = f.timeout(.seconds(3_600), clock: frozenClock) }
            if let retry = o.retry {
                let backoff: Backoff = switch retry.backoff {
                case .none: .none
                case .fixed: .fixed(.seconds(1), jitter: 0.5)
                case .exponential: .exponential(initial: .milliseconds(100), max: .seconds(5), jitter: 0.2)
                }
                f = f.retry(.attempts(retry.attempts, backoff: backoff), clock: ImmediateClock())
            }
            if o.timeout == .afterRetry || o.timeout == .alone { f = f.timeout(.seconds(3_600), clock: frozenClock) }
            // With a timeout and a retry, a rate limit too: on the immediate clock its waits cost
            // nothing, but every item goes through the bucket (into debt, then a wait and its
            // cancellation check).
            if o.timeout == .beforeRetry || o.timeout == .afterRetry {
                f = f.rateLimited(RateLimiter(rate: 1_000, burst: 1, clock: ImmediateClock()))
            }
            switch o.observer {
            case nil: break
            case .synchronous: f = f.observe { [probe] event in probe.tally(event.kind) }
            case .asynchronous: f = f.observe { [probe] (event: StageEvent<I>) async in
                await Task.yield()
                probe.tally(event.kind)
            }
            }
            if o.blocking { f = f.blocking(on: pool) }
            for m in o.modifierOrder {
                switch m {
                case 0: if let w = o.workers { f = f.workers(w) }
                case 1: if let b = o.buffer { f = f.buffer(BufferSize(capacity: b)) }
                case 2: if o.unordered { f = f.unordered() }
                default: if let name = o.name { f = f.named(name) }
                }
            }
            if let window = o.window { f = f.ordered(window: window) }
            if let maxWeight = o.maxWeight { f = f.buffer(maxWeight: maxWeight) { String(describing: $0).count } }
            return f
        }

        /// The same stage in either front end.
        func styled<I, O>(_ leaf: Leaf, pipe: Flow<I, O>, builder: () -> Flow<I, O>) -> Flow<I, O> {
            configure(leaf.options.front == .pipe ? pipe : builder(), leaf.options)
        }

        // MARK: plain stages

        func leafFlow(_ leaf: Leaf) -> Flow<Value, Value> {
            let rt = runtime(leaf), k = leaf.k
            switch leaf.kind {
            case .map(async: false):
                let f: @Sendable (Value) throws -> Value = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.bump(v, k)
                }
                return styled(leaf, pipe: op.map(f)) { Flow<Value, Value> { Map(f) } }
            case .map(async: true):
                let f: @Sendable (Value) async throws -> Value = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return Soak.bump(v, k)
                }
                return styled(leaf, pipe: op.map(f)) { Flow<Value, Value> { Map(f) } }
            case .filter(async: false):
                let f: @Sendable (Value) throws -> Bool = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.keep(v, k)
                }
                return styled(leaf, pipe: op.filter(f)) { Flow<Value, Value> { Filter(f) } }
            case .filter(async: true):
                let f: @Sendable (Value) async throws -> Bool = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return Soak.keep(v, k)
                }
                return styled(leaf, pipe: op.filter(f)) { Flow<Value, Value> { Filter(f) } }
            case .compactMap(async: false):
                let f: @Sendable (Value) throws -> Value? = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.compact(v, k)
                }
                return styled(leaf, pipe: op.compactMap(f)) { Flow<Value, Value> { CompactMap(f) } }
            case .compactMap(async: true):
                let f: @Sendable (Value) async throws -> Value? = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return Soak.compact(v, k)
                }
                return styled(leaf, pipe: op.compactMap(f)) { Flow<Value, Value> { CompactMap(f) } }
            case .flatMap(let expansion):
                return flatMapFlow(leaf, rt, expansion)
            case .expand(let plan):
                return expandFlow(leaf, rt, plan)
            case .forEach(async: false):
                let f: @Sendable (Value) throws -> Void = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                }
                return styled(leaf, pipe: op.forEach(f)) { Flow<Value, Value> { ForEach(f) } }
            case .forEach(async: true):
                let f: @Sendable (Value) async throws -> Void = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                }
                return styled(leaf, pipe: op.forEach(f)) { Flow<Value, Value> { ForEach(f) } }
            case .batch(let size, let grouped):
                let wrap: @Sendable ([Value]) -> Value = { Value.list($0) }
                if grouped {
                    let pair: Flow<Value, Value> = leaf.options.front == .pipe
                        ? op.batch(size) | op.map(wrap)
                        : Flow<Value, Value> { Batch(size); Map(wrap) }
                    return configure(pair, leaf.options)
                }
                // Every other batch outside a group is the timed one, on the frozen clock: time never
                // closes a batch, so it must behave exactly like `batch(size)` (its own worker,
                // reader and timer tasks under the same faults and cancellations).
                if leaf.id % 2 == 0 && !inGroups.contains(leaf.id) {
                    let timed: Flow<Value, [Value]> = styled(leaf, pipe: op.batch(size, within: .seconds(3_600), clock: frozenClock)) {
                        Flow<Value, [Value]> { Batch(size, within: .seconds(3_600), clock: frozenClock) }
                    }
                    return timed | op.map(wrap)
                }
                let batch: Flow<Value, [Value]> = styled(leaf, pipe: op.batch(size)) { Flow<Value, [Value]> { Batch(size) } }
                return batch | op.map(wrap)
            case .debounce:
                // On the frozen clock: the last item of the input, emitted at its end.
                return styled(leaf, pipe: op.debounce(for: .seconds(3_600), clock: frozenClock)) {
                    Flow<Value, Value> { Debounce<Value>(for: .seconds(3_600), clock: frozenClock) }
                }
            case .dropBuffer(let size, let oldest):
                let id = leaf.id, probe = self.probe
                let onDrop: @Sendable (Value) -> Void = { v in probe.drops.withLock { $0[id, default: []].append(v) } }
                let policy: FullBufferPolicy = oldest ? .dropOldest : .dropNewest
                return styled(leaf, pipe: op.map { (v: Value) in v }.buffer(size, whenFull: policy, onDrop: onDrop)) {
                    Flow<Value, Value> { Map { (v: Value) in v }.buffer(size, whenFull: policy, onDrop: onDrop) }
                }
            case .mapUsing:
                let create: @Sendable () async throws -> Resource = { try await rt.makeResource() }
                let teardown: @Sendable (Resource) async -> Void = { await rt.tearDown($0) }
                let f: @Sendable (Resource, Value) async throws -> Value = { r, v in try await rt.use(r, v) }
                return styled(leaf, pipe: op.map(using: create, teardown: teardown, f)) {
                    Flow<Value, Value> { Map(using: create, teardown: teardown, f) }
                }
            case .translator:
                let f: @Sendable (Value) async throws -> Value = { v in
                    rt.probe.begin()
                    defer { rt.end() }
                    do {
                        await Task.yield()
                        try Task.checkCancellation()
                    } catch {
                        throw Translated()
                    }
                    return v
                }
                return styled(leaf, pipe: op.map(f)) { Flow<Value, Value> { Map(f) } }
            default:
                preconditionFailure("soak: \(leaf.kind) is not a plain stage")
            }
        }

        /// The children of `v`, as the AsyncSequence a fault calls for: all of them, or the
        /// first `j` and then the fault.
        func stream(_ rt: LeafRuntime, _ v: Value, _ attempt: Int, drip: Bool) -> (AsyncThrowingStream<Value, any Error>?, Drip?) {
            let children = Soak.expand(v, rt.k)
            var failAfter: Int?
            if case .midExpansion(let j) = rt.fault(v, attempt: attempt) { failAfter = min(j, children.count) }
            if drip {
                return (nil, Drip(items: children, failAfter: failAfter, failure: rt.error(v, attempt), probe: rt.probe, isSource: false))
            }
            let failure = rt.error(v, attempt)
            let s = AsyncThrowingStream<Value, any Error> { c in
                for x in children.prefix(failAfter ?? children.count) { c.yield(x) }
                if failAfter != nil { c.finish(throwing: failure) } else { c.finish() }
            }
            return (s, nil)
        }

        /// A fault before the expansion starts: transient and persistent ones, and a
        /// mid-expansion fault at 0 children for half the items (the other half fail in the
        /// sequence itself).
        func throwsBeforeExpanding(_ rt: LeafRuntime, _ v: Value, _ attempt: Int) -> Bool {
            switch rt.fault(v, attempt: attempt) {
            case nil: false
            case .midExpansion(0): Soak.mix(rt.k, 11) % 2 == 0
            case .midExpansion: false
            default: true
            }
        }

        func flatMapFlow(_ leaf: Leaf, _ rt: LeafRuntime, _ expansion: Expansion) -> Flow<Value, Value> {
            let k = leaf.k
            switch expansion {
            case .sequence:
                let f: @Sendable (Value) throws -> [Value] = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.expand(v, k)
                }
                return styled(leaf, pipe: op.flatMap(f)) { Flow<Value, Value> { FlatMap(f) } }
            case .asyncSequence:
                let f: @Sendable (Value) async throws -> [Value] = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return Soak.expand(v, k)
                }
                return styled(leaf, pipe: op.flatMap(f)) { Flow<Value, Value> { FlatMap(f) } }
            case .stream:
                let f: @Sendable (Value) async throws -> AsyncThrowingStream<Value, any Error> = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    if throwsBeforeExpanding(rt, v, a) { throw rt.error(v, a) }
                    return stream(rt, v, a, drip: false).0!
                }
                return styled(leaf, pipe: op.flatMap(f)) { Flow<Value, Value> { FlatMap(f) } }
            case .drip:
                let f: @Sendable (Value) async throws -> Drip = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    if throwsBeforeExpanding(rt, v, a) { throw rt.error(v, a) }
                    return stream(rt, v, a, drip: true).1!
                }
                return styled(leaf, pipe: op.flatMap(f)) { Flow<Value, Value> { FlatMap(f) } }
            }
        }

        /// `expand` over the plan's graph: each item processed is emitted as it is.
        func expandFlow(_ leaf: Leaf, _ rt: LeafRuntime, _ plan: ExpandPlan) -> Flow<Value, Value> {
            let graph = plan.graph, maxDepth = plan.maxDepth, limit = plan.limit, frontier = plan.frontier
            let dedupe: Dedupe<Value> = switch plan.dedupe {
            case .none: .none
            case .items: .items
            case .key: .by { $0.description }
            case .custom: .custom {
                var seen = Set<Value>()
                return { seen.insert($0).inserted }
            }
            }
            if plan.async {
                let f: @Sendable (Value) async throws -> (Value, [Value]) = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return (v, graph.successors(v))
                }
                return styled(leaf, pipe: op.expand(dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier, f)) {
                    Flow<Value, Value> { Expand(dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier, f) }
                }
            }
            let f: @Sendable (Value) throws -> (Value, [Value]) = { v in
                let a = rt.begin(v)
                defer { rt.end() }
                try rt.check(v, a)
                return (v, graph.successors(v))
            }
            return styled(leaf, pipe: op.expand(dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier, f)) {
                Flow<Value, Value> { Expand(dedupe: dedupe, maxDepth: maxDepth, limit: limit, frontier: frontier, f) }
            }
        }

        // MARK: the railway

        func railFlow(_ block: RailBlock) -> Flow<Value, Value> {
            let enter = enterFlow(block.enter, block: block.id)
            let stays = block.stays.map { stayFlow($0, block: block.id) }
            let leave = leaveFlow(block.leave!)
            if block.front == .builder {
                return Flow<Value, Value> {
                    enter
                    for s in stays { s }
                    leave
                }
            }
            return stays.reduce(enter) { $0 | $1 } | leave
        }

        func openRailFlow(_ block: RailBlock) -> Flow<Value, Rail> {
            let enter = enterFlow(block.enter, block: block.id)
            let stays = block.stays.map { stayFlow($0, block: block.id) }
            if block.front == .builder {
                return Flow<Value, Rail> {
                    enter
                    for s in stays { s }
                }
            }
            return stays.reduce(enter) { $0 | $1 }
        }

        func enterFlow(_ leaf: Leaf, block: Int) -> Flow<Value, Rail> {
            let rt = runtime(leaf, block: block), k = leaf.k
            switch leaf.kind {
            case .tryMap(async: false):
                let f: @Sendable (Value) throws -> Value = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.bump(v, k)
                }
                return styled(leaf, pipe: op.tryMap(f)) { Flow<Value, Rail> { TryMap(f) } }
            case .tryMap(async: true):
                let f: @Sendable (Value) async throws -> Value = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return Soak.bump(v, k)
                }
                return styled(leaf, pipe: op.tryMap(f)) { Flow<Value, Rail> { TryMap(f) } }
            case .tryFlatMap(.stream):
                let f: @Sendable (Value) async throws -> AsyncThrowingStream<Value, any Error> = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    if throwsBeforeExpanding(rt, v, a) { throw rt.error(v, a) }
                    return stream(rt, v, a, drip: false).0!
                }
                return styled(leaf, pipe: op.tryFlatMap(f)) { Flow<Value, Rail> { TryFlatMap(f) } }
            case .tryFlatMap:
                let f: @Sendable (Value) throws -> [Value] = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.expand(v, k)
                }
                return styled(leaf, pipe: op.tryFlatMap(f)) { Flow<Value, Rail> { TryFlatMap(f) } }
            default:
                preconditionFailure("soak: \(leaf.kind) does not enter the railway")
            }
        }

        func stayFlow(_ leaf: Leaf, block: Int) -> Flow<Rail, Rail> {
            let rt = runtime(leaf, block: block), k = leaf.k, probe = self.probe
            switch leaf.kind {
            case .thenMap(async: false):
                let f: @Sendable (Value) throws -> Value = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.bump(v, k)
                }
                return styled(leaf, pipe: op.thenMap(f)) { Flow<Rail, Rail> { ThenMap(f) } }
            case .thenMap(async: true):
                let f: @Sendable (Value) async throws -> Value = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    return Soak.bump(v, k)
                }
                return styled(leaf, pipe: op.thenMap(f)) { Flow<Rail, Rail> { ThenMap(f) } }
            case .thenFilter(async: false):
                let f: @Sendable (Value) throws -> Bool = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    let kept = Soak.keep(v, k)
                    if !kept { probe.rail(block) { $0.filtered += 1 } }
                    return kept
                }
                return styled(leaf, pipe: op.thenFilter(f)) { Flow<Rail, Rail> { ThenFilter(f) } }
            case .thenFilter(async: true):
                let f: @Sendable (Value) async throws -> Bool = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                    let kept = Soak.keep(v, k)
                    if !kept { probe.rail(block) { $0.filtered += 1 } }
                    return kept
                }
                return styled(leaf, pipe: op.thenFilter(f)) { Flow<Rail, Rail> { ThenFilter(f) } }
            case .thenForEach(async: false):
                let f: @Sendable (Value) throws -> Void = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                }
                return styled(leaf, pipe: op.thenForEach(f)) { Flow<Rail, Rail> { ThenForEach(f) } }
            case .thenForEach(async: true):
                let f: @Sendable (Value) async throws -> Void = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    await rt.jitter(v)
                    try rt.check(v, a)
                }
                return styled(leaf, pipe: op.thenForEach(f)) { Flow<Rail, Rail> { ThenForEach(f) } }
            case .thenFlatMap:
                let f: @Sendable (Value) throws -> [Value] = { v in
                    let a = rt.begin(v)
                    defer { rt.end() }
                    try rt.check(v, a)
                    return Soak.expand(v, k)
                }
                return styled(leaf, pipe: op.thenFlatMap(f)) { Flow<Rail, Rail> { ThenFlatMap(f) } }
            case .mapFailure(async: false):
                let f: @Sendable (StageFailure) throws -> StageFailure = { failure in
                    rt.probe.begin()
                    defer { rt.end() }
                    var changed = failure
                    changed.stage += "+"
                    return changed
                }
                return styled(leaf, pipe: op.mapFailure(f)) { Flow<Rail, Rail> { MapFailure<Value>(f) } }
            case .mapFailure(async: true):
                let f: @Sendable (StageFailure) async throws -> StageFailure = { failure in
                    rt.probe.begin()
                    defer { rt.end() }
                    await Task.yield()
                    var changed = failure
                    changed.stage += "+"
                    return changed
                }
                return styled(leaf, pipe: op.mapFailure(f)) { Flow<Rail, Rail> { MapFailure<Value>(f) } }
            case .auditSuccesses:
                let f: @Sendable (Value) throws -> Void = { _ in probe.rail(block) { $0.successes += 1 } }
                return styled(leaf, pipe: op.thenForEach(f)) { Flow<Rail, Rail> { ThenForEach(f) } }
            case .auditFailures:
                let f: @Sendable (StageFailure) throws -> StageFailure = { failure in
                    probe.rail(block) { $0.failures += 1 }
                    return failure
                }
                return styled(leaf, pipe: op.mapFailure(f)) { Flow<Rail, Rail> { MapFailure<Value>(f) } }
            default:
                preconditionFailure("soak: \(leaf.kind) is not a railway stage")
            }
        }

        func leaveFlow(_ leaf: Leaf) -> Flow<Rail, Value> {
            let rt = runtime(leaf)
            switch leaf.kind {
            case .recover(async: false):
                let f: @Sendable (StageFailure) throws -> Value = { failure in
                    rt.probe.begin()
                    defer { rt.end() }
                    return Soak.failedValue(failure)
                }
                return styled(leaf, pipe: op.recover(f)) { Flow<Rail, Value> { Recover(f) } }
            case .recover(async: true):
                let f: @Sendable (StageFailure) async throws -> Value = { failure in
                    rt.probe.begin()
                    defer { rt.end() }
                    await Task.yield()
                    return Soak.failedValue(failure)
                }
                return styled(leaf, pipe: op.recover(f)) { Flow<Rail, Value> { Recover(f) } }
            case .successes:
                return styled(leaf, pipe: op.successes()) { Flow<Rail, Value> { Successes<Value>() } }
            case .failures:
                let wrap: @Sendable (StageFailure) -> Value = { Soak.failedValue($0) }
                return styled(leaf, pipe: op.failures()) { Flow<Rail, StageFailure> { Failures<Value>() } } | op.map(wrap)
            default:
                preconditionFailure("soak: \(leaf.kind) does not leave the railway")
            }
        }
    }
}
