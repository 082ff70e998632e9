// Instruments for one soak run: what is running, what started or read the source after the
// terminal returned, resources, railway counts, the in-flight high-water mark, the cancel trigger.
import Sluice
import SluiceExecutor
import SluiceTestSupport
import Synchronization

extension Soak {
    /// Counts everything a run does. One per run; every stage body and the source report here.
    final class Probe: Sendable {
        /// Bodies running now (stage closures and the `next()` of a flatMap's AsyncSequence).
        let active = Atomic<Int>(0)
        /// Bodies started so far.
        let starts = Atomic<Int>(0)
        /// Set once the terminal has returned or thrown (or the loop was left).
        let exited = Atomic<Bool>(false)
        let startedAfterExit = Atomic<Int>(0)
        /// Calls to the source's `next()` (or its deferred closure), and items it handed out.
        let sourceCalls = Atomic<Int>(0)
        let sourceItems = Atomic<Int>(0)
        let sourceCallsAfterExit = Atomic<Int>(0)
        /// The most items seen taken from the source and not yet delivered to the consumer.
        let maxInFlight = Atomic<Int>(0)
        /// Outputs the consumer has taken so far.
        let delivered = Atomic<Int>(0)
        /// The body start at which the caller is cancelled.
        let cancelAtStart: Int?
        /// Opened to make the caller cancel the run.
        let cancelGate = Gate()
        let resources = Lock(ResourceLedger())
        let rails = Lock<[Int: RailCount]>([:])
        /// The items each buffer with a drop policy handed to `onDrop`, by leaf id.
        let drops = Lock<[Int: [Value]]>([:])
        /// The run's metrics, when the scenario has a buffer that drops (its `dropped` counts).
        let metrics = PipelineMetrics()
        /// The events the observed stages reported (`Options.observer`).
        let events = Lock(EventTally())

        /// Counts an observed stage's event.
        func tally<Item: Sendable>(_ kind: StageEvent<Item>.Kind) {
            events.withLock { tally in
                switch kind {
                case .started: tally.started += 1
                case .retried: tally.retried += 1
                case .succeeded, .failed, .cancelled: tally.ended += 1
                }
            }
        }

        init(cancelAtStart: Int?) {
            self.cancelAtStart = cancelAtStart
        }

        /// A stage body starts.
        func begin() {
            active.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let n = starts.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
            if exited.load(ordering: .sequentiallyConsistent) {
                startedAfterExit.wrappingAdd(1, ordering: .sequentiallyConsistent)
            }
            if n == cancelAtStart { cancelGate.open() }
        }

        func end() {
            active.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }

        /// The source is asked for an item.
        func sourceCall() {
            sourceCalls.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if exited.load(ordering: .sequentiallyConsistent) {
                sourceCallsAfterExit.wrappingAdd(1, ordering: .sequentiallyConsistent)
            }
        }

        func sourceItem() {
            sourceItems.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }

        /// The consumer is about to handle its output number `index` (0-based): everything taken
        /// from the source, minus what was delivered before, is in flight.
        func sampleInFlight(delivered index: Int) {
            let inFlight = sourceItems.load(ordering: .sequentiallyConsistent) - index
            var seen = maxInFlight.load(ordering: .sequentiallyConsistent)
            while inFlight > seen {
                let (done, current) = maxInFlight.compareExchange(expected: seen, desired: inFlight, ordering: .sequentiallyConsistent)
                if done { break }
                seen = current
            }
        }

        func markExited() {
            exited.store(true, ordering: .sequentiallyConsistent)
        }

        func rail(_ block: Int, _ change: (inout RailCount) -> Void) {
            rails.withLock { change(&$0[block, default: RailCount()]) }
        }
    }

    /// One railway block's accounting.
    struct RailCount: Sendable, Equatable, CustomStringConvertible {
        var entered = 0
        var filtered = 0
        var successes = 0
        var failures = 0
        var description: String {
            "entered \(entered), left as \(successes) successes + \(failures) failures + \(filtered) filtered"
        }
    }

    /// Every per-worker resource created and torn down in a run.
    struct ResourceLedger: Sendable {
        var nextID = 0
        var created: Set<Int> = []
        var tornDown: [Int: Int] = [:]
        /// A resource used by two items at once, or after its teardown.
        var misuses: [String] = []

        var problems: [String] {
            var list = misuses
            let never = created.filter { tornDown[$0] == nil }
            if !never.isEmpty { list.append("\(never.count) of \(created.count) resources never torn down") }
            for (id, n) in tornDown.sorted(by: { $0.key < $1.key }) where n > 1 || !created.contains(id) {
                list.append("resource \(id) torn down \(n) times\(created.contains(id) ? "" : " (never created)")")
            }
            return list
        }

        var isSettled: Bool { created.allSatisfy { tornDown[$0] != nil } }
    }

    /// A worker's resource: not `Sendable`, used by one item at a time.
    final class Resource {
        let id: Int
        var busy = false
        var tornDown = false
        init(id: Int) { self.id = id }
    }

    /// What one stage's closures need at run time.
    final class LeafRuntime: Sendable {
        let leaf: Leaf
        let qualified: String
        let faults: [Value: FaultKind]
        let probe: Probe
        let block: Int?
        /// Attempts per item (items reaching one stage are all different).
        let attempts = Lock<[Value: Int]>([:])

        init(leaf: Leaf, qualified: String, faults: [Value: FaultKind], probe: Probe, block: Int?) {
            self.leaf = leaf
            self.qualified = qualified
            self.faults = faults
            self.probe = probe
            self.block = block
        }

        var k: Int { leaf.k }

        /// A body starts on `v`: returns the attempt number (1 for the first call on `v`).
        func begin(_ v: Value) -> Int {
            probe.begin()
            let attempt = attempts.withLock { counts -> Int in
                counts[v, default: 0] += 1
                return counts[v]!
            }
            if attempt == 1, let block, case .tryMap = leaf.kind { probe.rail(block) { $0.entered += 1 } }
            if attempt == 1, let block, case .tryFlatMap = leaf.kind { probe.rail(block) { $0.entered += 1 } }
            return attempt
        }

        func end() { probe.end() }

        /// The fault that fires on this attempt, if any.
        func fault(_ v: Value, attempt: Int) -> FaultKind? {
            guard let fault = faults[v.normalized] else { return nil }
            switch fault {
            case .persistent, .midExpansion: return fault
            case .transient(let n): return attempt <= n ? fault : nil
            }
        }

        func error(_ v: Value, _ attempt: Int) -> Fault { Fault(stage: qualified, value: v, attempt: attempt) }

        /// Throws the injected fault, if it fires on this attempt.
        func check(_ v: Value, _ attempt: Int) throws {
            if fault(v, attempt: attempt) != nil { throw error(v, attempt) }
        }

        /// Lets other tasks run on some items (async bodies only), so completion order varies.
        func jitter(_ v: Value) async {
            if Soak.yields(v, leaf.k) { await Task.yield() }
        }

        func makeResource() async throws -> Resource {
            if Soak.yields(.int(leaf.k), 3) { await Task.yield() }
            let id = probe.resources.withLock { ledger -> Int in
                ledger.nextID += 1
                ledger.created.insert(ledger.nextID)
                return ledger.nextID
            }
            return Resource(id: id)
        }

        func tearDown(_ resource: Resource) async {
            let id = resource.id
            if resource.busy { probe.resources.withLock { $0.misuses.append("resource \(id) torn down while in use") } }
            resource.tornDown = true
            probe.resources.withLock { $0.tornDown[id, default: 0] += 1 }
        }

        func use(_ resource: Resource, _ v: Value) async throws -> Value {
            let id = resource.id
            if resource.busy { probe.resources.withLock { $0.misuses.append("resource \(id) used by two items at once") } }
            if resource.tornDown { probe.resources.withLock { $0.misuses.append("resource \(id) used after teardown") } }
            resource.busy = true
            defer { resource.busy = false }
            let a = begin(v)
            defer { end() }
            await jitter(v)
            try check(v, a)
            return Soak.bump(v, k)
        }
    }
}

// MARK: - Sources and expansions that report to the probe

extension Soak {
    /// `.int(0) ..< .int(count)`, counting every `next()`.
    struct ProbedSequence: Sequence, Sendable {
        let count: Int
        let probe: Probe
        /// The first item (`count` is the end): a part of the items, for fan-in sources.
        var start = 0

        struct Iterator: IteratorProtocol {
            var position = 0
            let count: Int
            let probe: Probe

            mutating func next() -> Value? {
                probe.sourceCall()
                guard position < count else { return nil }
                defer { position += 1 }
                probe.sourceItem()
                return .int(position)
            }
        }

        func makeIterator() -> Iterator { Iterator(position: start, count: count, probe: probe) }
    }

    /// Any async sequence, counting every `next()`.
    struct ProbedAsyncSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == Value {
        typealias Element = Value
        let base: Base
        let probe: Probe

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: Base.AsyncIterator
            let probe: Probe

            mutating func next() async throws -> Value? {
                probe.sourceCall()
                let value = try await base.next()
                if value != nil { probe.sourceItem() }
                return value
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), probe: probe) }
    }

    /// Fixed items that suspend now and then and may throw after `failAfter` of them. As a source
    /// it reports source reads; as an expansion each `next()` is a stage body.
    struct Drip: AsyncSequence, Sendable {
        typealias Element = Value
        let items: [Value]
        let failAfter: Int?
        let failure: Fault
        let probe: Probe
        let isSource: Bool

        struct AsyncIterator: AsyncIteratorProtocol {
            let drip: Drip
            var index = 0

            mutating func next() async throws -> Value? {
                if drip.isSource { drip.probe.sourceCall() } else { drip.probe.begin() }
                defer { if !drip.isSource { drip.probe.end() } }
                if index % 3 == 1 { await Task.yield() }
                if index == drip.failAfter { throw drip.failure }
                guard index < drip.items.count else { return nil }
                defer { index += 1 }
                if drip.isSource { drip.probe.sourceItem() }
                return drip.items[index]
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(drip: self) }
    }

    /// The position of an `AsyncThrowingStream(unfolding:)` source.
    final class Cursor: Sendable {
        let position = Atomic<Int>(0)
        func take() -> Int { position.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue }
    }

    /// The events of the observed stages: every item started must end exactly once (succeeded,
    /// failed or cancelled) by the time the terminal returns.
    struct EventTally: Sendable, CustomStringConvertible {
        var started = 0
        var retried = 0
        var ended = 0
        var description: String { "started \(started), ended \(ended), retried \(retried)" }
    }
}
