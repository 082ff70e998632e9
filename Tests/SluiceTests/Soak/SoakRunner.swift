// Runs a scenario once: builds its pipeline, calls its terminal (cancelling the caller when the
// scenario says so), and measures what happened during and after the run.
import Sluice
import SluiceTestSupport
import Synchronization

extension Soak {
    /// What the terminal did.
    struct TerminalRun: Sendable {
        /// The terminal's own error, or `nil` if it returned.
        var error: (any Error)?
        /// The outputs it returned (`collect`, `take`, `first`), as items.
        var returned: [Item]?
        var count: Int?
        var partition: (successes: [Value], failures: [FailureModel])?
        /// The outputs handed to the consumer one by one (`forEach`, `reduce`, a loop).
        var seen: [Item] = []
        /// Bodies still running the moment the terminal returned or threw.
        var activeAtExit = 0
        var resourcesSettledAtExit = true
    }

    /// Everything the checks look at.
    struct Observation: Sendable {
        var run: TerminalRun
        var cancelIssued: Bool
        /// Outputs the consumer took, and bodies that started, after the caller was cancelled.
        var deliveredAfterCancel = 0
        var startsAfterCancel = 0
        var startedAfterExit: Int
        var sourceCallsAfterExit: Int
        /// For a `break`: did every resource get torn down, and every body end, eventually?
        var settledAfterBreak: Bool
        var resourceProblems: [String]
        var resourcesCreated: Int
        var rails: [Int: RailCount]
        var maxInFlight: Int
        var bound: Int
        var stages: String
        /// What each buffer with a drop policy reported to `onDrop`, by leaf id.
        var drops: [Int: [Value]] = [:]
        /// The drops the metrics counted (the `dropped` of every stage).
        var metricDrops = 0
        /// The observed stages' events.
        var events = EventTally()
    }

    enum Runner {
        static func observe(_ scenario: Scenario, pool: BlockingPool) async -> Observation {
            var cancelAtStart: Int?
            if case .atBodyStart(let n) = scenario.cancel { cancelAtStart = n }
            let probe = Probe(cancelAtStart: cancelAtStart)
            let built = PipelineBuilder(scenario: scenario, probe: probe, pool: pool).build()
            let cancelIssued = Atomic<Bool>(false)
            var atCancel = (delivered: 0, starts: 0)

            let run: TerminalRun
            if scenario.cancel == nil {
                run = await terminal(built, scenario, probe)
            } else {
                run = await withTaskGroup(of: CancelEvent.self) { group in
                    group.addTask { .finished(await terminal(built, scenario, probe)) }
                    group.addTask {
                        do {
                            try await probe.cancelGate.wait()
                            return .trigger
                        } catch {
                            return .triggerCancelled
                        }
                    }
                    var result: TerminalRun?
                    while let event = await group.next() {
                        switch event {
                        case .finished(let r):
                            result = r
                            group.cancelAll()
                        case .trigger:
                            if result == nil, !probe.exited.load(ordering: .sequentiallyConsistent) {
                                atCancel = (probe.delivered.load(ordering: .sequentiallyConsistent),
                                            probe.starts.load(ordering: .sequentiallyConsistent))
                                cancelIssued.store(true, ordering: .sequentiallyConsistent)
                                group.cancelAll()
                            }
                        case .triggerCancelled:
                            break
                        }
                    }
                    return result!
                }
            }

            // Give anything the run left behind a chance to start or read, then look.
            await yieldRepeatedly(200)
            var settled = true
            if scenario.terminal.isBreak {
                // A bare loop's run may end just after the loop: it must still end, and tear down.
                // Poll (yielding) for up to 5 s of wall time: on a loaded machine the run's own
                // task may need a while to get a thread.
                settled = false
                let clock = ContinuousClock(), deadline = clock.now.advanced(by: .seconds(5))
                while clock.now < deadline {
                    if probe.active.load(ordering: .sequentiallyConsistent) == 0,
                       probe.resources.withLock({ $0.isSettled }) {
                        settled = true
                        break
                    }
                    await Task.yield()
                }
            }
            let ledger = probe.resources.withLock { $0 }
            return Observation(
                run: run,
                cancelIssued: cancelIssued.load(ordering: .sequentiallyConsistent),
                deliveredAfterCancel: probe.delivered.load(ordering: .sequentiallyConsistent) - atCancel.delivered,
                startsAfterCancel: probe.starts.load(ordering: .sequentiallyConsistent) - atCancel.starts,
                startedAfterExit: probe.startedAfterExit.load(ordering: .sequentiallyConsistent),
                sourceCallsAfterExit: probe.sourceCallsAfterExit.load(ordering: .sequentiallyConsistent),
                settledAfterBreak: settled,
                resourceProblems: ledger.problems,
                resourcesCreated: ledger.created.count,
                rails: probe.rails.withLock { $0 },
                maxInFlight: probe.maxInFlight.load(ordering: .sequentiallyConsistent),
                bound: built.inFlightBound,
                stages: "\(built.stages)",
                drops: probe.drops.withLock { $0 },
                metricDrops: probe.metrics.snapshot().stages.reduce(0) { $0 + $1.dropped },
                events: probe.events.withLock { $0 })
        }

        enum CancelEvent: Sendable {
            case finished(TerminalRun)
            case trigger
            case triggerCancelled
        }

        static func terminal(_ built: Built, _ scenario: Scenario, _ probe: Probe) async -> TerminalRun {
            var run: TerminalRun
            switch built {
            case .values(let p):
                run = await consume(p, scenario, probe, Item.value)
            case .rails(let p):
                if case .partition = scenario.terminal {
                    run = TerminalRun()
                    do {
                        let (successes, failures) = try await p.partition()
                        run.partition = (successes, failures.map(Soak.model))
                    } catch {
                        run.error = error
                    }
                    probe.markExited()
                } else {
                    run = await consume(p, scenario, probe, Soak.item)
                }
            }
            // `markExited` was called the moment the terminal returned; look at once.
            run.activeAtExit = probe.active.load(ordering: .sequentiallyConsistent)
            run.resourcesSettledAtExit = probe.resources.withLock { $0.isSettled }
            return run
        }

        /// Calls the scenario's terminal on `pipeline`.
        static func consume<E: Sendable>(
            _ pipeline: Pipeline<E>, _ scenario: Scenario, _ probe: Probe, _ item: @escaping (E) -> Item
        ) async -> TerminalRun {
            var run = TerminalRun()
            var seen: [Item] = []
            let cancel = scenario.cancel
            /// The consumer takes output number `index`: stall, measure, maybe cancel the caller.
            func arrive(_ index: Int, stall: Int) async {
                probe.delivered.wrappingAdd(1, ordering: .sequentiallyConsistent)
                for _ in 0..<stall { await Task.yield() }
                probe.sampleInFlight(delivered: index)
                if case .atOutput(let n) = cancel, index + 1 == n { probe.cancelGate.open() }
            }
            func arriveNow(_ index: Int) {
                probe.delivered.wrappingAdd(1, ordering: .sequentiallyConsistent)
                probe.sampleInFlight(delivered: index)
                if case .atOutput(let n) = cancel, index + 1 == n { probe.cancelGate.open() }
            }
            do {
                switch scenario.terminal {
                case .collect:
                    run.returned = try await pipeline.collect().map(item)
                case .count:
                    run.count = try await pipeline.count()
                case .take(let n):
                    run.returned = try await pipeline.take(n).map(item)
                case .first:
                    run.returned = try await pipeline.first().map { [item($0)] } ?? []
                case .reduceInto:
                    let all = try await pipeline.reduce(into: [Item]()) { acc, x in
                        arriveNow(acc.count)
                        acc.append(item(x))
                        seen.append(item(x))
                    }
                    if all != seen { run.returned = all }   // the result must be what it was given
                case .reduceAsync(let stall):
                    let n = try await pipeline.reduce(0) { (n: Int, x: E) async throws -> Int in
                        await arrive(n, stall: stall)
                        seen.append(item(x))
                        return n + 1
                    }
                    if n != seen.count { run.count = n }
                case .forEach(let stall, let throwAt):
                    try await pipeline.forEach { x in
                        let index = seen.count
                        await arrive(index, stall: stall)
                        seen.append(item(x))
                        if index == throwAt { throw ConsumerError(index: index) }
                    }
                case .loop(let stall, let breakAfter):
                    for try await x in pipeline {
                        let index = seen.count
                        await arrive(index, stall: stall)
                        seen.append(item(x))
                        if seen.count == breakAfter { break }
                    }
                case .partition:
                    preconditionFailure("soak: partition needs a pipeline of Results")
                }
            } catch {
                run.error = error
            }
            probe.markExited()
            run.seen = seen
            return run
        }
    }
}
