// `op.debounce` and `Debounce`: the last item of each burst, once the input has been quiet.
import SluiceExecutor

extension op {
    /// Emits an item only once `interval` has passed without a newer one: the last item of each
    /// burst (like swift-async-algorithms' `debounce(for:)`). At the end of the input, the pending
    /// item is emitted at once.
    ///
    /// ```swift
    /// Pipeline(keystrokes) | op.debounce(for: .milliseconds(300)) | op.map(search)
    /// ```
    ///
    /// A `debounce` stage is a segment of its own with one worker; the items it replaces are
    /// dropped by design (it emits at most one item per quiet period). An input failure ends its
    /// output after the items emitted so far (the pending item is not emitted).
    ///
    /// - Parameters:
    ///   - interval: How long the input must be quiet; `> 0` (a precondition).
    ///   - clock: The clock the interval is measured on; `ContinuousClock` unless a test injects one.
    /// - Returns: A one-stage flow of kind `debounce`.
    public static func debounce<A>(for interval: Duration, clock: some Clock<Duration> = ContinuousClock()) -> Flow<A, A> {
        require(interval > .zero, "debounce interval must be > 0, got \(interval) (stage 'debounce')")
        var node = StageNode(kind: .debounce, isSequential: true, body: DebounceBody<A, _>(interval: interval, clock: clock))
        node.parameters = "for: \(interval.shortDescription)"
        return Flow(node)
    }
}

/// The last item of each burst (builder style; same stage as `op.debounce`).
///
/// ```swift
/// Flow<String, String> { Debounce<String>(for: .milliseconds(300)) }
/// ```
public struct Debounce<Element: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Element, Element>

    /// A `debounce` stage.
    ///
    /// ```swift
    /// Debounce<Query>(for: .milliseconds(300))
    /// ```
    ///
    /// - Parameters:
    ///   - interval: How long the input must be quiet; `> 0` (a precondition).
    ///   - clock: The clock the interval is measured on; `ContinuousClock` unless a test injects one.
    public init(for interval: Duration, clock: some Clock<Duration> = ContinuousClock()) {
        flow = op.debounce(for: interval, clock: clock)
    }
}

package struct DebounceBody<A: Sendable, C: Clock<Duration>>: TimedStageBody {
    package typealias Input = A
    package typealias Output = A
    let interval: Duration
    let clock: C

    package init(interval: Duration, clock: C) {
        self.interval = interval
        self.clock = clock
    }

    package func makeTimedKernel(context: StageContext) -> TimedKernel<A, A> {
        let interval = Swift.min(interval, .longestWait)
        // The pending item and when it is due.
        let state = Box((latest: A?.none, due: Duration?.none))
        func emit(_ output: inout [A]) {
            if let x = state.value.latest { output.append(x) }
            state.value.latest = nil
            state.value.due = nil
        }
        return TimedKernel(
            timeline: Timeline(clock), capacity: 0,
            receive: { x, now, _ in
                state.value.latest = x
                state.value.due = now + interval
            },
            deadline: { state.value.due },
            fire: { _, output in emit(&output) },
            finish: { output in emit(&output) })
    }
}
