// `.retry(...)`: try an item again when the stage fails on it, with backoff, in both front ends.
import SluiceExecutor

extension FlowComponent {
    /// Retries an item the stage fails on, up to `policy.maxAttempts` attempts in total, waiting
    /// `policy.backoff` (measured on `clock`) before each retry.
    ///
    /// - Only errors for which `shouldRetry` returns true are retried (all of them by default; it
    ///   sees the error the closure threw, or a `TimeoutError`). `CancellationError` never is, and
    ///   nothing is retried once the run is stopping.
    /// - Each worker retries its own item; the stage's other workers keep going meanwhile.
    /// - When the last attempt fails, the stage fails with a `StageFailure` whose `attempts` says
    ///   how many were made (on the railway — `tryMap`, `thenMap`, … — that failure is the item).
    /// - An attempt's outputs leave the stage only when it succeeds, so a retried item is never
    ///   emitted twice.
    /// - Modifiers nest in the order written: `.timeout(…)` before `.retry(…)` limits each attempt;
    ///   after it, it limits the item's attempts and waits together.
    ///
    /// ```swift
    /// op.map(fetch)
    ///     .timeout(.seconds(2))                    // per attempt
    ///     .retry(.attempts(3, backoff: .exponential(initial: .milliseconds(100), max: .seconds(2), jitter: 0.2)),
    ///            when: { $0 is URLError || $0 is TimeoutError })
    ///     .workers(8)
    /// Map(fetch).retry(.attempts(3))                // the same modifier in the builder
    /// ```
    ///
    /// - Parameters:
    ///   - policy: The attempts (at least 1) and the backoff between them.
    ///   - clock: The clock the backoff waits on; `ContinuousClock` unless a test injects one.
    ///   - shouldRetry: Whether an error is worth another attempt; retries every error by default.
    /// - Returns: The flow as one stage with the retry as its outermost layer so far.
    public func retry(
        _ policy: RetryPolicy,
        clock: some Clock<Duration> = ContinuousClock(),
        when shouldRetry: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) -> Flow<Input, Output> {
        modifyingPolicies("retry") { body, stage in
            require(policy.maxAttempts >= 1, "attempts must be >= 1, got \(policy.maxAttempts) (stage '\(stage)')")
            policy.backoff.validate(stage: stage)
            body.layers.append(RetryLayer.make(policy, clock: clock, when: shouldRetry))
        }
    }
}

/// The retry loop, as a layer: call `next` until it succeeds, the policy is exhausted, or the
/// error is not one to retry.
enum RetryLayer {
    static func make<Input, Output, C: Clock<Duration>>(
        _ policy: RetryPolicy, clock: C, when shouldRetry: @escaping @Sendable (any Error) -> Bool
    ) -> InvocationLayer<Input, Output> {
        let spec = RetrySpec(maxAttempts: policy.maxAttempts, backoff: policy.backoff, shouldRetry: shouldRetry) { delay in
            try await clock.sleep(for: Swift.min(delay, .longestWait))
        }
        var layer = InvocationLayer<Input, Output>(
            name: "retry ×\(policy.maxAttempts)", keepsOutputs: true,
            wrapOne: { x, invocation, next in try await retrying(x, invocation, spec, next) }
        ) { x, invocation, next in
            try await retrying(x, invocation, spec, next)
        }
        layer.retry = spec
        return layer
    }

    private static func retrying<Input, T>(
        _ x: Input, _ invocation: Invocation, _ spec: RetrySpec, _ next: (Input) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await next(x)
            } catch {
                guard try spec.retries(after: error, attempt: attempt, stop: invocation.stop) else { throw error }
                try await spec.wait(beforeRetry: attempt, after: error, stop: invocation.stop, report: invocation.onRetry)
                attempt += 1
            }
        }
    }
}

/// A retry layer's behaviour, for an asynchronous `map` kernel that retries inside its own loop
/// (see `AsyncKernelMaker.makeWithPolicies`) and for the layer itself (`RetryLayer.retrying`): one
/// set of rules, with or without the layer's closures around each item.
@usableFromInline
package struct RetrySpec: Sendable {
    let maxAttempts: Int
    let backoff: Backoff
    let shouldRetry: @Sendable (any Error) -> Bool
    /// Sleeps on the layer's clock.
    let sleep: @Sendable (Duration) async throws -> Void
    /// Counts a retry in a measured run (`nil`: not measured).
    var countRetry: (@Sendable () -> Void)?

    init(maxAttempts: Int, backoff: Backoff, shouldRetry: @escaping @Sendable (any Error) -> Bool, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.shouldRetry = shouldRetry
        self.sleep = sleep
    }

    /// After attempt number `attempt` failed with `error`: whether to try again (`false`: the
    /// error is final). Throws `CancellationError` when the item must not go on: a cancellation is
    /// never retried, and once the worker must stop (its item is past a failure, or the run ended)
    /// the item is not finished, so it is not a failure either — no value for it.
    @usableFromInline
    func retries(after error: any Error, attempt: Int, stop: StopSignal) throws -> Bool {
        if error is CancellationError { throw error }
        if Task.isCancelled || stop.isSet { throw CancellationError() }
        return attempt < maxAttempts && shouldRetry(error)
    }

    /// After attempt number `attempt` timed out (`error`, the `TimeoutError`) and the worker's
    /// task was interrupted for it: whether to try again, in a new task. As `retries(after:…)`,
    /// but the interrupt's cancellation of this task is not the worker stopping.
    @usableFromInline
    func retries(afterTimeout error: any Error, attempt: Int, stop: StopSignal) throws -> Bool {
        if stop.isSet { throw CancellationError() }
        return attempt < maxAttempts && shouldRetry(error)
    }

    /// Before retry number `attempt`: counts and reports it, then waits the policy's delay.
    /// Throws `CancellationError` if the worker must stop meanwhile.
    @usableFromInline
    func wait(beforeRetry attempt: Int, after error: any Error, stop: StopSignal,
              report: ((_ attempt: Int, _ delay: Duration, _ error: any Error) async -> Void)?) async throws {
        countRetry?()
        let delay = backoff.delay(beforeRetry: attempt)
        await report?(attempt, delay, error)
        if delay > .zero { try await sleep(delay) }
        if stop.isSet { throw CancellationError() }
    }
}
