// What the shape tests share.
import Sluice
import SluiceTestSupport
import Testing

/// The error the shape tests' stages throw.
struct ShapeBoom: Error {}

/// Runs `pipeline` with a consumer that blocks on its first item, waits until `counter` reaches
/// `minimum`, lets everything settle, and returns the count then (and the pipeline's bound).
func countWhileConsumerStalled<T: Sendable>(_ pipeline: Pipeline<T>, _ counter: Counter, atLeast minimum: Int) async -> (count: Int, bound: Int) {
    let gate = Gate(), first = Counter()
    async let run: Void = pipeline.forEach { _ in
        if first.increment() == 1 { try await gate.wait() } else { throw CancellationError() }
    }
    await counter.wait(atLeast: minimum)
    await yieldRepeatedly()
    let value = counter.value
    gate.open()
    _ = try? await run
    return (value, pipeline.inFlightBound)
}

/// Cancels a caller once `started` has reached `minimum`: the run throws `CancellationError` and
/// no body is left running (`running`).
func expectCancellationStopsEverything<T: Sendable>(_ pipeline: Pipeline<T>, started: Counter, atLeast minimum: Int, running: HighWater) async {
    let task = Task { try await pipeline.collect() }
    await started.wait(atLeast: minimum)
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }
    #expect(running.current == 0)
}
