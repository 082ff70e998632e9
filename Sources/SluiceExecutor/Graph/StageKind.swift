// What a stage does, as a type: the front ends tag each node with one; descriptions, metrics and
// the railway's policies read it. The executor itself only distinguishes groups.

/// The kind of a stage node.
package enum StageKind: String, Sendable, Hashable, CaseIterable {
    case map, filter, compactMap, flatMap, forEach, batch
    // Stream operators: sequential, one worker, state across items.
    case scan, prefix, dropFirst, drop, distinct
    // Timed: a segment of their own, acting on time as well as on items.
    case debounce, buffer
    /// A fragment acting as one stage (after a modifier on a multi-stage flow).
    case group
    // The railway: entering it, staying on it, handling failures, leaving it.
    case tryMap, tryFlatMap, tryFilter, tryForEach
    case thenMap, thenFlatMap, thenFilter, thenForEach
    case mapFailure
    case recover, successes, failures
    // Graph shapes: fan-out into branches, per-key order, recursive expansion.
    case broadcast, route, partitioned, expand

    /// The stage calls its closure on railway successes and lets failures pass (`try…`, `then…`):
    /// with policies, a failure value it produces is a failed attempt.
    package var stepsOnRailway: Bool {
        switch self {
        case .tryMap, .tryFlatMap, .tryFilter, .tryForEach, .thenMap, .thenFlatMap, .thenFilter, .thenForEach: true
        default: false
        }
    }
}
