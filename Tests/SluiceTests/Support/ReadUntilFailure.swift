// Reads a pipeline the way a loop does, keeping what arrived before an error.
import Sluice

/// Every output until the run ends or fails, and the error it failed with (`nil` at a normal end).
func readUntilFailure<T: Sendable>(_ p: Pipeline<T>) async -> (items: [T], error: (any Error)?) {
    var items: [T] = []
    do {
        for try await x in p { items.append(x) }
        return (items, nil)
    } catch {
        return (items, error)
    }
}
