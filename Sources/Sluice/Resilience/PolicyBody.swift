// The body of a stage with policies: it calls the stage's own body once per item through the
// chain of layers (middleware, retry, timeout) and reports each item to the stage's observers.
import SluiceExecutor

/// Wraps any non-sequential body (a single stage or a fragment acting as one stage).
///
/// Per item, the inner body runs with a collecting downstream, so the layers surround exactly the
/// stage's own work — never the hand-over to the next stage — and a retried attempt emits nothing
/// until it succeeds: with policies, a stage's outputs for one item leave together (a `flatMap`
/// expansion is gathered, all-or-nothing per attempt).
///
/// Layers are listed innermost first: the modifier written last is the outermost layer.
/// Observers sit outside every layer. A stage with policies is never fused (it runs on the async
/// path), so stages without policies pay nothing for this.
package struct PolicyBody<Input: Sendable, Output: Sendable>: StageBody, GroupBodyProtocol {
    package var inner: any StageBody
    package var layers: [InvocationLayer<Input, Output>] = []
    package var observers: [ObserverEntry<Input>] = []
    /// Set for railway stages: failure values are failed attempts, and the final failure is a value.
    package var railway: RailwayAdapter<Input, Output>?

    package init(inner: any StageBody, railway: RailwayAdapter<Input, Output>?) {
        self.inner = inner
        self.railway = railway
    }

    /// The stages of a wrapped fragment, so that `stages` still describes them.
    package var nodes: [StageNode] { (inner as? any GroupBodyProtocol)?.nodes ?? [] }

    package func makeAsyncSink(_ downstream: AsyncSink<Output>, context: StageContext) -> AsyncSink<Input> {
        // The outputs the inner body produced for the current attempt (one box per worker).
        let collected = Box<[Output]>([])
        let body = inner.erasedAsyncSink(
            AsyncSink<Output>(push: { collected.value.append($0) }, finish: {}), context: context.enclosedByLayers()) as! AsyncSink<Input>
        let railway = self.railway
        let call = chain(body: body, collected: collected, context: context)
        let report = Reporter(stage: context.name, observers: observers, meter: context.meter)
        let name = context.name, stop = context.stop, push = downstream.push, meter = context.meter

        return AsyncSink(
            push: { x in
                if let railway, railway.isPassing(x) {
                    // A failure travelling down the railway: the stage's closure never sees it.
                    try await body.push(x)
                    for y in collected.take() { try await push(y) }
                    return
                }
                let invocation = Invocation(stage: name, stop: stop, onRetry: report.onRetry(item: x), meter: meter)
                let start = await report.started(x)
                let outputs: [Output]
                do {
                    outputs = try await call(x, invocation)
                    await report.succeeded(x, outputs: outputs, since: start, attempts: invocation.attempts)
                } catch {
                    let ending = await report.ended(x, error, invocation: invocation, since: start)
                    guard let railway, let failure = ending as? StageFailure else { throw ending }
                    outputs = [railway.output(failure)]
                }
                for y in outputs { try await push(y) }
            },
            finish: {
                try await body.finish()
                for y in collected.take() { try await push(y) }
                try await downstream.finish()
            })
    }

    /// A policy-wrapped asynchronous `map` not on the railway runs the map's kernel, compiled for
    /// its types, around a per-item function: the layers and observers as on the generic path,
    /// without the collecting sink. With layers that keep its one output per item (retry,
    /// timeout), one output per item; with middleware (or a rate limiter), the outputs the
    /// layers return.
    package func makeAsyncKernel(context: StageContext) -> AsyncChunkKernel<Input, Output>? {
        guard railway == nil, let map = inner as? MapBody<Input, Output>, let maker = map.asyncKernel, case .async(let f) = map.transform
        else { return nil }
        guard keepsOneOutput else {
            return maker.makeExpanding(context, layeredCall(context, { x in [try await f(x)] }, wrap: { $0.wrap }) { report, x, outputs, start, attempts in
                if start != nil { await report.succeeded(x, outputs: outputs, since: start, attempts: attempts) }
            })
        }
        let meter = context.meter
        // Any of a `retry`, a `timeout` around it (`.retry(…).timeout(…)`: one deadline for all
        // attempts and waits) and observers: the kernel runs the retry's rules in its loop and
        // delivers each item's events, and a timeout's watchdog beside it interrupts the worker's
        // task when the item in hand passes its deadline (no task per item). Nothing can go on
        // with that item (a timeout is the outermost layer, a railway stage never runs its
        // kernel), so it fails, and the stage with it.
        if let policies = kernelPolicies(context) {
            return maker.makeWithPolicies(context, f, policies)
        }
        // `timeout` inside `retry` (`.timeout(…).retry(…)`: a deadline per attempt), observed or
        // not: a kernel in which a timed-out attempt that is retried restarts the worker's work in
        // a new task (`WorkRestart`), since the interrupted one cannot go on.
        if let timeoutPerAttempt, let interrupt = context.scope.interrupt {
            var retry = timeoutPerAttempt.retry
            if let meter { retry.countRetry = { meter.countRetry() } }
            let watchdog = timeoutPerAttempt.timeout.makeWatchdog(interrupt, context.scope.resumed)
            context.scope.runBeside(starting: { watchdog.markStarted() }) { await watchdog.run() }
            return maker.makeTimedAttempts(context, f, watchdog, retry, observers)
        }
        return maker.make(context, layeredCall(context, f, wrap: { $0.wrapOne! }) { report, x, output, start, attempts in
            if start != nil { await report.succeeded(x, output: output, since: start, attempts: attempts) }
        }, wrapsErrors: false)
    }

    /// The per-item function of a kernel: `body` (one attempt of the map's closure, returning
    /// `R`: its output, or its outputs) through the layers (`wrap` picks each layer's form for
    /// `R`; an outermost timeout that may interrupt is guarded in place), reporting to the
    /// observers and the meter; it throws the stage's failure.
    private func layeredCall<R: Sendable>(
        _ context: StageContext,
        _ body: @escaping @Sendable (Input) async throws -> R,
        wrap: (InvocationLayer<Input, Output>) -> @Sendable (Input, Invocation, (Input) async throws -> R) async throws -> R,
        succeeded: @escaping @Sendable (Reporter<Input>, Input, R, ContinuousClock.Instant?, Int) async -> Void
    ) -> @Sendable (Input) async throws -> R {
        let name = context.name, stop = context.stop, meter = context.meter
        let report = Reporter(stage: name, observers: observers, meter: meter)
        var call: @Sendable (Input, Invocation) async throws -> R = { x, invocation in
            invocation.attempts += 1
            invocation.bodyFailure = nil
            do {
                return try await body(x)
            } catch let cancellation as CancellationError {
                throw cancellation
            } catch {
                // Layers and predicates see the error the stage's closure threw.
                invocation.bodyFailure = StageFailure(stage: name, item: x, underlying: error)
                throw error
            }
        }
        for layer in boundLayers(context) {
            let next = call, wrap = wrap(layer)
            call = { x, invocation in try await wrap(x, invocation) { y in try await next(y, invocation) } }
        }
        let layered = call
        // What the per-item path needs to know, decided once per worker: with no observer and
        // no meter an item costs its layered call and nothing else (no event, no clock read).
        let observing = !observers.isEmpty, reportsRetries = observing || meter != nil
        // One invocation per worker, reset for each item. Unchecked transfer, proven: this kernel
        // is built for one worker (`makeAsyncKernel` runs per worker), whose loop calls this
        // function for one item at a time and awaits it; the layers use the invocation only
        // within that call (a timeout's child task is awaited before the call returns), and
        // nothing keeps it past its item. So it is never used by two tasks at once.
        let shared = UnsafeTransfer(Invocation(stage: name, stop: stop, onRetry: nil, meter: meter))
        return { x in
            let invocation = shared.value
            invocation.attempts = 0
            invocation.bodyFailure = nil
            if reportsRetries { invocation.onRetry = report.onRetry(item: x) }
            guard observing else {
                do {
                    return try await layered(x, invocation)
                } catch {
                    throw await report.ended(x, error, invocation: invocation, since: nil)
                }
            }
            let start = await report.started(x)
            do {
                let result = try await layered(x, invocation)
                await succeeded(report, x, result, start, invocation.attempts)
                return result
            } catch {
                throw await report.ended(x, error, invocation: invocation, since: start)
            }
        }
    }

    /// The stage's layers keep its one output per item (they have a form for one output).
    private var keepsOneOutput: Bool { layers.allSatisfy { $0.wrapOne != nil } }

    /// The stage runs its map's asynchronous kernel (see `makeAsyncKernel`).
    private var runsAsyncKernel: Bool {
        railway == nil && (inner as? MapBody<Input, Output>)?.hasAsyncKernel == true
    }

    /// What `makeWithPolicies` does for this stage, when its layers are a `retry`, a `timeout`
    /// around it, both, or none (observers only), and a timeout has a worker whose task it can
    /// interrupt. Starts the timeout's watchdog beside the worker.
    private func kernelPolicies(_ context: StageContext) -> KernelPolicies<Input>? {
        var rest = layers[...]
        let timeout = rest.last?.timeout
        if timeout != nil { rest.removeLast() }
        guard rest.count <= 1 else { return nil }
        var policies = KernelPolicies(observers: observers)
        if let layer = rest.first {
            guard var retry = layer.retry else { return nil }
            if let meter = context.meter { retry.countRetry = { meter.countRetry() } }
            policies.retry = retry
        }
        if let timeout {
            guard let interrupt = context.scope.interrupt else { return nil }
            let watchdog = timeout.makeWatchdog(interrupt, nil)
            context.scope.runBeside(starting: { watchdog.markStarted() }) { await watchdog.run() }
            policies.watchdog = watchdog
        }
        if policies.retry == nil && policies.watchdog == nil && observers.isEmpty { return nil }
        return policies
    }

    /// A watchdog that interrupts the worker's task, for the stage's outermost `timeout` (its
    /// layer's index), when nothing can go on with an item after it times out: no layer outside it
    /// that may go on after a failure (only ones that pass failures on, such as a rate limiter), no
    /// railway (which would make the failure a value and go on), no layers of an enclosing stage
    /// in the same task (`StageContext.isEnclosedByLayers`), and a worker whose task can be
    /// interrupted. The item's work (the layers inside the timeout: middleware, a `retry`, …) then
    /// runs in the worker's own task, between the watchdog's `begin` and `end`
    /// (`Watchdog.guarding`): no task per item. Starts the watchdog beside the worker.
    private func interruptingWatchdog(_ context: StageContext) -> (watchdog: Watchdog, index: Int)? {
        guard railway == nil, !context.isEnclosedByLayers, let interrupt = context.scope.interrupt,
              let index = layers.lastIndex(where: { $0.timeout != nil }), let timeout = layers[index].timeout,
              layers[(index + 1)...].allSatisfy(\.passesFailuresOn) else { return nil }
        let watchdog = timeout.makeWatchdog(interrupt, nil)
        context.scope.runBeside(starting: { watchdog.markStarted() }) { await watchdog.run() }
        return (watchdog, index)
    }

    /// The layers as this worker runs them, innermost first: each bound to the worker, and an
    /// outermost timeout that may interrupt the worker's task in its guarding form
    /// (`TimeoutLayer.guarding`).
    private func boundLayers(_ context: StageContext) -> [InvocationLayer<Input, Output>] {
        var bound = layers
        if let guarded = interruptingWatchdog(context) {
            bound[guarded.index] = TimeoutLayer.guarding(by: guarded.watchdog, name: layers[guarded.index].name)
        }
        return bound.map { $0.bound(to: context.scope) }
    }

    /// `timeout` inside `retry`, and no other layer: the kernel whose work may restart.
    private var timeoutPerAttempt: (timeout: TimeoutSpec, retry: RetrySpec)? {
        guard layers.count == 2, let timeout = layers[0].timeout, let retry = layers[1].retry else { return nil }
        return (timeout, retry)
    }

    /// Not when the kernel may restart its work: what it leaves to do must be the worker's input.
    package var acceptsSynchronousPrefix: Bool { runsAsyncKernel && timeoutPerAttempt == nil }

    /// The innermost call (one attempt of the body) wrapped in every layer, innermost first.
    private func chain(body: AsyncSink<Input>, collected: Box<[Output]>, context: StageContext) -> (Input, Invocation) async throws -> [Output] {
        let railway = self.railway
        var call: (Input, Invocation) async throws -> [Output] = { x, invocation in
            invocation.attempts += 1
            invocation.bodyFailure = nil
            _ = collected.take()
            do {
                try await body.push(x)
            } catch let failure as StageFailure {
                // Layers and predicates see the error the stage's closure threw.
                invocation.bodyFailure = failure
                throw failure.underlying
            }
            let outputs = collected.take()
            if let railway, let failure = outputs.lazy.compactMap(railway.failure).first {
                invocation.bodyFailure = failure
                throw failure.underlying
            }
            return outputs
        }
        for layer in boundLayers(context) {
            let next = call
            call = { x, invocation in try await layer.wrap(x, invocation) { y in try await next(y, invocation) } }
        }
        return call
    }
}

extension Reporter {
    /// An item's call through the layers threw `error`: reports it (cancelled, or failed with
    /// the stage's failure) and returns what the stage throws — the `CancellationError`, or the
    /// `StageFailure`.
    func ended(_ item: Input, _ error: any Error, invocation: Invocation, since start: ContinuousClock.Instant?) async -> any Error {
        if error is CancellationError {
            await cancelled(item, since: start)
            return error
        }
        let failure = StageFailure(error, item: item, invocation: invocation)
        await failed(item, failure, since: start)
        return failure
    }
}

extension Box {
    /// Empties a box of outputs and returns what it held.
    fileprivate func take<Element>() -> [Element] where Value == [Element] {
        defer { value.removeAll(keepingCapacity: true) }
        return value
    }
}

extension StageFailure {
    /// The failure a stage with policies reports: where the body failed (when it did), the error
    /// that came out of the layers, and the attempts made.
    init<Item: Sendable>(_ error: any Error, item: Item, invocation: Invocation) {
        self.init(
            stage: invocation.bodyFailure?.stage ?? invocation.stage,
            item: invocation.bodyFailure?.item ?? item,
            underlying: error,
            attempts: Swift.max(1, invocation.attempts))
    }
}
