// `GracefulStop` and `pipeline.withGracefulStop(_:)`: stop reading, finish what was read, return.
import SluiceExecutor

/// Tells running pipelines to stop gracefully: their source reads nothing more, every item already
/// read goes through the rest of the pipeline (and, in an acknowledged pipeline, is acknowledged),
/// and the terminal then returns normally — unlike cancellation, which stops at once.
///
/// ```swift
/// let stop = GracefulStop()
/// async let done: Void = (Pipeline(feed) | op.map(handle).workers(4)).withGracefulStop(stop).drain()
/// // … on SIGTERM:
/// stop.request(deadline: .seconds(30))   // after 30 s the run is cancelled: PipelineTimeout
/// try await done
/// ```
///
/// A request is final: a run started afterwards with the same handle reads nothing. An
/// `AsyncSequence` source waiting for its next item when the stop is requested is interrupted
/// (its read is cancelled); an item it still returns is processed.
public final class GracefulStop: Sendable {
    package let signal: GracefulStopSignal

    /// A handle; nothing is requested yet.
    ///
    /// ```swift
    /// let stop = GracefulStop()
    /// ```
    ///
    /// - Parameter clock: The clock the deadline of `request(deadline:)` is measured on;
    ///   `ContinuousClock` unless a test injects one.
    public init(clock: some Clock<Duration> = ContinuousClock()) {
        signal = GracefulStopSignal(makeTimeline: { Timeline(clock) })
    }

    /// Requests the stop. Only the first request counts.
    ///
    /// ```swift
    /// stop.request(deadline: .seconds(30))
    /// ```
    ///
    /// - Parameter deadline: How long the items already read may take to finish, from now; when
    ///   it passes, the run is stopped and its terminal throws `PipelineTimeout` with the limit
    ///   `.gracefulStop`. `nil` (the default): no deadline. `> 0` (a precondition).
    public func request(deadline: Duration? = nil) {
        if let deadline { require(deadline > .zero, "GracefulStop.request: deadline must be > 0, got \(deadline)") }
        signal.request(deadline: deadline)
    }

    /// True once a stop was requested.
    ///
    /// ```swift
    /// if stop.isRequested { print("draining") }
    /// ```
    public var isRequested: Bool { signal.isRequested }
}

extension Pipeline {
    /// Makes every run of this pipeline obey `stop`: once it is requested, the source is not read
    /// again, the items already read finish, and the terminal returns normally.
    ///
    /// ```swift
    /// let stop = GracefulStop()
    /// try await (Pipeline(feed) | op.map(handle)).withGracefulStop(stop).forEach(store)
    /// ```
    ///
    /// - Parameter stop: The handle; request it from any task.
    /// - Returns: This pipeline, stoppable.
    public func withGracefulStop(_ stop: GracefulStop) -> Pipeline {
        var p = self
        p.options = p.options.obeying(stop)
        return p
    }
}

extension RunOptions {
    /// These options, with runs obeying `stop`.
    func obeying(_ stop: GracefulStop) -> RunOptions {
        var options = self
        var limits = options.limits ?? RunLimits()
        limits.gracefulStop = stop.signal
        options.limits = limits
        return options
    }
}

/// A source that reads nothing once a graceful stop is requested. An async read in progress when
/// it is requested is cancelled; an item it still returns is delivered, and the source then ends.
struct StoppableSource<Base: SourceBody>: SourceBody {
    let base: Base
    let signal: GracefulStopSignal
    var isSynchronous: Bool { base.isSynchronous }

    func open(stop: StopSignal) async throws -> SourceCursor<Base.Element> {
        let signal = signal
        if signal.isRequested { return .sync { _, _ in false } }
        switch try await base.open(stop: stop) {
        case .sync(let read):
            return .sync { buffer, limit in
                if signal.isRequested { return false }
                return try read(&buffer, limit)
            }
        case .async(let next):
            let ended = Box(false)
            return .async {
                if ended.value || signal.isRequested { return nil }
                let (item, stopped) = try await Self.race(next, signal)
                if stopped { ended.value = true }
                return item
            }
        }
    }

    /// The next item, read while waiting for the stop. `stopped`: the stop came first (the read
    /// was cancelled; a failure it then reports is the cancellation's and is dropped).
    private static func race(_ next: @escaping () async throws -> Base.Element?, _ signal: GracefulStopSignal) async throws -> (Base.Element?, Bool) {
        // `next` is used by one task at a time: the child below, while this task only awaits the
        // group (see `UnsafeTransfer`); calls are sequential, since the group ends before we return.
        let read = UnsafeTransfer(next)
        // A child's result: the read's outcome, or `nil` when the stop was requested.
        let (outcome, stopped) = await withTaskGroup(of: Result<Base.Element?, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await read.value()) } catch { return .failure(error) }
            }
            group.addTask {
                await signal.wait()
                return nil
            }
            var stopped = false, readDone = false
            var outcome: Result<Base.Element?, any Error> = .success(nil)
            while let event = await group.next() {
                if let event {
                    readDone = true
                    outcome = event
                } else if !readDone {
                    // The wait also returns when cancelled: only a wait that ends first is the stop.
                    stopped = true
                }
                group.cancelAll()
            }
            return (outcome, stopped)
        }
        switch outcome {
        case .success(let item): return (item, stopped)
        case .failure(let error):
            if stopped { return (nil, true) }
            throw error
        }
    }
}

/// `source`, ending once `signal` is requested. A fan-in source ends when all of its inputs have:
/// each input's source obeys the signal.
func stoppable(_ source: any SourceBody, by signal: GracefulStopSignal) -> any SourceBody {
    if let driving = source as? any DrivingSource {
        return driving.mappingInputs { input in
            var input = input
            input.source = stoppable(input.source, by: signal)
            return input
        }
    }
    return stoppableSource(source, by: signal)
}

private func stoppableSource(_ source: some SourceBody, by signal: GracefulStopSignal) -> any SourceBody {
    StoppableSource(base: source, signal: signal)
}
