// What the acknowledgement tests observe: every event that touched a source item's descendants,
// and every acknowledgement with the event count at the time it was sent.
import Sluice
import SluiceExecutor
import SluiceTestSupport

/// A test value: the source items it derives from (with multiplicity).
struct Origins: Sendable, Hashable {
    var ids: [Int]
}

/// Counts, per source item, every stage call and consumption of an item derived from it, and
/// records acknowledgements with the count they saw: an acknowledgement sent before the last
/// event of its item's descendants shows a smaller count than the final one.
final class AckRecorder: Sendable {
    private struct State {
        var events: [Int: Int] = [:]
        var acks: [(id: Int, outcome: AckOutcome, eventsSeen: Int)] = []
        var batches: [AckBatch<Int>] = []
    }
    private let state = Lock(State())
    let acknowledged = Counter()

    func touch(_ origins: Origins) {
        state.withLock { s in for id in origins.ids { s.events[id, default: 0] += 1 } }
    }

    func record(_ batch: AckBatch<Int>) {
        state.withLock { s in
            s.batches.append(batch)
            for ack in batch.acknowledgements { s.acks.append((ack.id, ack.outcome, s.events[ack.id, default: 0])) }
        }
        acknowledged.increment(by: batch.acknowledgements.count)
    }

    var acks: [(id: Int, outcome: AckOutcome, eventsSeen: Int)] { state.withLock { $0.acks } }
    var batches: [AckBatch<Int>] { state.withLock { $0.batches } }
    var events: [Int: Int] { state.withLock { $0.events } }

    /// Acknowledged ids that something touched after their acknowledgement, or acknowledged twice.
    func violations() -> [String] {
        let (acks, events) = state.withLock { ($0.acks, $0.events) }
        var problems: [String] = []
        var seen: Set<Int> = []
        for ack in acks {
            if !seen.insert(ack.id).inserted { problems.append("item \(ack.id) acknowledged twice") }
            let final = events[ack.id, default: 0]
            if ack.eventsSeen != final {
                problems.append("item \(ack.id) acknowledged after \(ack.eventsSeen) events of its descendants, but they had \(final)")
            }
        }
        return problems
    }
}

func deliveries(_ n: Int) -> [Delivery<Int, Origins>] {
    (0..<n).map { Delivery(id: $0, element: Origins(ids: [$0])) }
}
