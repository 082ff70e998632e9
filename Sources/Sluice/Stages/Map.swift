// `op.map` and `Map`: the stage in both front ends, its body and its chunk kernel.
import SluiceExecutor

extension op {
    /// One output per input.
    ///
    /// ```swift
    /// op.map { (x: Int) in x * 2 }
    /// op.map(\Page.url)
    /// ```
    ///
    /// A synchronous `map` without options may be fused with its neighbours into one task.
    ///
    /// - Parameter transform: Called once per item; an error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `map`.
    @inlinable
    public static func map<A, B>(_ transform: @escaping @Sendable (A) throws -> B) -> Flow<A, B> {
        mapFlow(transform, kernel: Kernels.map(transform))
    }

    /// One output per input, computed asynchronously.
    ///
    /// ```swift
    /// op.map { (url: URL) in try await fetch(url) }.workers(8)
    /// ```
    ///
    /// - Parameter transform: Called once per item; an error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    /// - Returns: A one-stage flow of kind `map`.
    @inlinable
    public static func map<A, B>(_ transform: @escaping @Sendable (A) async throws -> B) -> Flow<A, B> {
        asyncMapFlow(transform, kernel: Kernels.asyncMap())
    }
}

/// One output per input (builder style; same stage as `op.map`).
///
/// ```swift
/// Flow<Int, String> {
///     Map { $0 * 2 }
///     Map { (x: Int) in String(x) }
/// }
/// ```
///
/// SwiftUI and MapKit also declare a type named `Map`. In a file that imports one of them as well
/// as Sluice, write `Sluice.Map { … }` (or use `op.map`).
public struct Map<Input: Sendable, Output: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Output>

    /// A `map` stage with a synchronous transform.
    ///
    /// ```swift
    /// Map { (line: String) in line.count }
    /// ```
    ///
    /// - Parameter transform: Called once per item; an error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ transform: @escaping @Sendable (Input) throws -> Output) {
        flow = op.map(transform)
    }

    /// A `map` stage with an asynchronous transform.
    ///
    /// ```swift
    /// Map { (url: URL) in try await fetch(url) }.workers(8)
    /// ```
    ///
    /// - Parameter transform: Called once per item; an error it throws fails the run with a
    ///   `StageFailure` naming the stage and the item.
    @inlinable
    public init(_ transform: @escaping @Sendable (Input) async throws -> Output) {
        flow = op.map(transform)
    }
}

package struct MapBody<A: Sendable, B: Sendable>: StageBody {
    package var transform: Transform<A, B>
    /// The chunk kernel, built where `A` and `B` are concrete (sync closures only).
    package var kernel: (@Sendable (StageContext) -> ChunkKernel<A, B>)?

    /// Builds the asynchronous kernel around a per-item function (the stage's closure, or the
    /// closure inside its policies: see `PolicyBody`); compiled where `A` and `B` are concrete
    /// (async closures only).
    package var asyncKernel: AsyncKernelMaker<A, B>?

    package init(transform: Transform<A, B>, kernel: (@Sendable (StageContext) -> ChunkKernel<A, B>)? = nil,
                 asyncKernel: AsyncKernelMaker<A, B>? = nil) {
        self.transform = transform
        self.kernel = kernel
        self.asyncKernel = asyncKernel
    }

    package func makeAsyncKernel(context: StageContext) -> AsyncChunkKernel<A, B>? {
        guard let asyncKernel, case .async(let f) = transform else { return nil }
        return asyncKernel.make(context, f, wrapsErrors: true)
    }

    package var isFusible: Bool { transform.isSync }
    package var acceptsSynchronousPrefix: Bool { hasAsyncKernel }
    /// The stage runs its asynchronous kernel.
    var hasAsyncKernel: Bool { asyncKernel != nil && !transform.isSync }

    /// The specialized kernel when the stage was built with a concrete closure type, else a
    /// generic one (a stage built inside the library, e.g. by the railway).
    package func makeKernel(context: StageContext) -> ChunkKernel<A, B>? {
        if let kernel { return kernel(context) }
        return transform.sync.map { Kernels.map($0)(context) }
    }

    package func makeAsyncSink(_ downstream: AsyncSink<B>, context: StageContext) -> AsyncSink<A> {
        let t = transform, name = context.name, push = downstream.push
        return AsyncSink(push: { x in try await push(try await t.callAsync(x, stage: name)) }, finish: downstream.finish)
    }
}

extension StageNode {
    package static func map<A, B: Sendable>(_ transform: Transform<A, B>) -> StageNode {
        StageNode(kind: .map, body: MapBody(transform: transform))
    }
}

extension Kernels {
    /// The `map` kernel, specialized where it is built.
    @inlinable
    package static func map<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) throws -> B) -> @Sendable (StageContext) -> ChunkKernel<A, B> {
        { context in
            let name = context.name, stop = context.stop
            return ChunkKernel { input, output in
                try consume(&input, stop: stop) { x in
                    output.append(try callSync(f, x, stage: name))
                }
            }
        }
    }
}

/// Builds an asynchronous `map` kernel around a per-item function. Made by `Kernels.asyncMap`
/// where the element types are concrete, so the kernel's loop and sends are compiled for them.
@usableFromInline
package struct AsyncKernelMaker<A: Sendable, B: Sendable>: Sendable {
    /// - Parameters: the worker's context; the per-item function; whether an error it throws is
    ///   wrapped in a `StageFailure` for the stage and the item (`false`: it already is one).
    @usableFromInline let make: @Sendable (StageContext, @escaping @Sendable (A) async throws -> B, _ wrapsErrors: Bool) -> AsyncChunkKernel<A, B>
    /// The kernel of a `map` whose only policies are any of a `retry`, a `timeout` around it and
    /// observers, with the retry's rules in its loop, each item's work between the watchdog's
    /// `begin` and `end` (all attempts and waits within one deadline; see `TimeoutLayer`), and each
    /// item's events built and delivered where the types are concrete: no layer, no invocation,
    /// nothing generic per item.
    @usableFromInline let makeWithPolicies: @Sendable (StageContext, @escaping @Sendable (A) async throws -> B, KernelPolicies<A>) -> AsyncChunkKernel<A, B>
    /// The kernel of a `map` whose only policies are `timeout` inside `retry` and observers: a
    /// deadline per attempt; a timed-out attempt that is retried restarts the worker's work
    /// (`WorkRestart`).
    @usableFromInline let makeTimedAttempts: @Sendable (StageContext, @escaping @Sendable (A) async throws -> B, Watchdog, RetrySpec, [ObserverEntry<A>]) -> AsyncChunkKernel<A, B>
    /// The kernel of a `map` with layers that may change its outputs (middleware): around a
    /// per-item function that returns the item's outputs, any number, as a `StageFailure` when
    /// it throws.
    @usableFromInline let makeExpanding: @Sendable (StageContext, @escaping @Sendable (A) async throws -> [B]) -> AsyncChunkKernel<A, B>

    @inlinable
    init(make: @escaping @Sendable (StageContext, @escaping @Sendable (A) async throws -> B, _ wrapsErrors: Bool) -> AsyncChunkKernel<A, B>,
         makeWithPolicies: @escaping @Sendable (StageContext, @escaping @Sendable (A) async throws -> B, KernelPolicies<A>) -> AsyncChunkKernel<A, B>,
         makeTimedAttempts: @escaping @Sendable (StageContext, @escaping @Sendable (A) async throws -> B, Watchdog, RetrySpec, [ObserverEntry<A>]) -> AsyncChunkKernel<A, B>,
         makeExpanding: @escaping @Sendable (StageContext, @escaping @Sendable (A) async throws -> [B]) -> AsyncChunkKernel<A, B>) {
        self.make = make
        self.makeWithPolicies = makeWithPolicies
        self.makeTimedAttempts = makeTimedAttempts
        self.makeExpanding = makeExpanding
    }

    func make(_ context: StageContext, _ f: @escaping @Sendable (A) async throws -> B, wrapsErrors: Bool) -> AsyncChunkKernel<A, B> {
        make(context, f, wrapsErrors)
    }
}

/// What an asynchronous `map` kernel with policies does around each item (see
/// `AsyncKernelMaker.makeWithPolicies`): any of them, or none.
@usableFromInline
package struct KernelPolicies<Item: Sendable>: Sendable {
    /// The `retry`, whose rules run in the kernel's loop.
    @usableFromInline var retry: RetrySpec?
    /// The `timeout` around it (all attempts and waits), as the worker's watchdog.
    @usableFromInline var watchdog: Watchdog?
    /// The stage's observers, outside both.
    @usableFromInline var observers: [ObserverEntry<Item>] = []
}

extension Kernels {
    /// The asynchronous `map` kernel maker, specialized where it is built.
    @inlinable
    package static func asyncMap<A: Sendable, B: Sendable>() -> AsyncKernelMaker<A, B> {
        AsyncKernelMaker(make: { context, f, wrapsErrors in
            let name = context.name
            return AsyncChunkKernel { input, outputs in
                for x in input {
                    try outputs.beginItem()
                    let y: B
                    do {
                        y = try await f(x)
                    } catch {
                        throw wrapsErrors ? StageFailure.wrap(error, stage: name, item: x) : error
                    }
                    try await outputs.append(y)
                }
            }
        }, makeWithPolicies: { context, f, policies in
            let name = context.name, stop = context.stop
            let watchdog = policies.watchdog, retry = policies.retry, observers = policies.observers
            if let watchdog, retry == nil, observers.isEmpty {
                // The timeout alone: a loop without the retry's bookkeeping (measured: the general
                // loop below made W8's timed stage 1.65–1.7× plain, this one 1.2–1.35×).
                return AsyncChunkKernel { input, outputs in
                    for x in input {
                        try outputs.beginItem()
                        watchdog.begin()
                        let y: B
                        do {
                            y = try await f(x)
                        } catch {
                            // Past its deadline, the item fails with the timeout, whatever the
                            // work threw (the interrupt's `CancellationError`, most likely).
                            if watchdog.end() { throw watchdog.timedOut(stage: name, item: x) }
                            if error is CancellationError { throw error }
                            throw StageFailure(stage: name, item: x, underlying: error, attempts: 1)
                        }
                        // Work that returned past its deadline: its result is discarded.
                        if watchdog.end() { throw watchdog.timedOut(stage: name, item: x) }
                        try await outputs.append(y)
                    }
                }
            }
            let observing = !observers.isEmpty
            return AsyncChunkKernel { input, outputs in
                guard let first = input.first else { return }
                // Observed: two events for the chunk, changed in place for each item, so the
                // stage's name is not retained and no event destroyed per item. The success
                // event's outputs array is unshared again once the observers are done with it,
                // and the next item's output replaces the last one in place. An observer that
                // keeps an event keeps its own copy (its item and outputs do not change under it).
                var started = StageEvent(stage: name, item: first, kind: .started)
                var succeeded = StageEvent(stage: name, item: first, kind: .started)
                for x in input {
                    try outputs.beginItem()
                    // The events of the policy path (`Reporter`): started, retried, then succeeded
                    // with the output, or failed or cancelled. Timed on `ContinuousClock`'s clock
                    // read directly (`monotonicNanoseconds`: `ContinuousClock.now` costs more).
                    var start: Int64 = 0
                    if observing {
                        start = monotonicNanoseconds()
                        started.item = x
                        for observer in observers { await observer.notify(started) }
                    }
                    // How the item ends when it fails after `attempts` attempts with `error` (a
                    // `CancellationError`: the item is cancelled, not failed).
                    func ending(_ error: any Error, attempts: Int) async -> any Error {
                        if observing {
                            return await observedEnding(error, stage: name, item: x, startedAt: start, attempts: attempts, observers: observers)
                        }
                        if error is CancellationError { return error }
                        return StageFailure(stage: name, item: x, underlying: error, attempts: attempts)
                    }
                    watchdog?.begin()
                    var attempt = 1
                    while true {
                        let y: B
                        do {
                            y = try await f(x)
                        } catch {
                            // The retry layer's rules (`RetrySpec`): every attempt and wait
                            // within the one deadline.
                            let retrying: Bool
                            do {
                                retrying = try retry?.retries(after: error, attempt: attempt, stop: stop) ?? false
                                if retrying, let retry {
                                    try await retry.wait(beforeRetry: attempt, after: error, stop: stop, report: observing ? { attempt, delay, error in
                                        let retried = StageEvent(stage: name, item: x, kind: .retried(attempt: attempt, delay: delay, error: error))
                                        for observer in observers { await observer.notify(retried) }
                                    } : nil)
                                }
                            } catch {
                                // Cancelled: by the watchdog (past the deadline), or the worker stops.
                                if let watchdog, watchdog.end() { throw await ending(watchdog.timeoutError, attempts: attempt) }
                                throw await ending(error, attempts: attempt)
                            }
                            if !retrying {
                                // Past its deadline, the item fails with the timeout, whatever the
                                // work threw (the interrupt's `CancellationError`, most likely).
                                if let watchdog, watchdog.end() { throw await ending(watchdog.timeoutError, attempts: attempt) }
                                throw await ending(error, attempts: attempt)
                            }
                            attempt += 1
                            continue
                        }
                        // Work that returned past its deadline: its result is discarded.
                        if let watchdog, watchdog.end() { throw await ending(watchdog.timeoutError, attempts: attempt) }
                        if observing {
                            succeeded.item = x
                            succeeded.kind = .succeeded(duration: .nanoseconds(monotonicNanoseconds() - start), attempts: attempt)
                            // (A subscript set: `removeAll(keepingCapacity:)` went through the
                            // generic `replaceSubrange`, about 100 instructions.)
                            if succeeded.outputs.isEmpty { succeeded.outputs.append(y) } else { succeeded.outputs[0] = y }
                            for observer in observers { await observer.notify(succeeded) }
                        }
                        try await outputs.append(y)
                        break
                    }
                }
            }
        }, makeTimedAttempts: { context, f, watchdog, retry, observers in
            let name = context.name, stop = context.stop
            let observing = !observers.isEmpty
            return AsyncChunkKernel { input, outputs in
                // After a restart: the first item goes on with its next attempt (after its
                // backoff), timed from its first attempt's start.
                var resumed = watchdog.takeResumed()
                var succeeded: StageEvent<A>?
                var i = 0
                while i < input.count {
                    let x = input[i]
                    var attempt = 1
                    // The events of the policy path, as in `makeWithPolicies`: started once,
                    // retried before each wait, then succeeded, failed or cancelled.
                    var start: Int64 = 0
                    func ending(_ error: any Error, attempts: Int) async -> any Error {
                        if observing {
                            return await observedEnding(error, stage: name, item: x, startedAt: start, attempts: attempts, observers: observers)
                        }
                        if error is CancellationError { return error }
                        return StageFailure(stage: name, item: x, underlying: error, attempts: attempts)
                    }
                    // Timed out, and this task is interrupted: leaves the rest of the chunk, this
                    // item first (the items before it are done), and asks for the work to go on
                    // in a new task; if it does not, the item is reported cancelled there.
                    func restart(after attempt: Int) -> any Error {
                        input.removeFirst(i)
                        let started = start
                        var abandoned: (@Sendable () async -> Void)?
                        if observing {
                            abandoned = {
                                _ = await observedEnding(CancellationError(), stage: name, item: x, startedAt: started, attempts: attempt, observers: observers)
                            }
                        }
                        return watchdog.restart(nextAttempt: attempt + 1, startedAt: started, abandoned: abandoned)
                    }
                    // (Made into a closure only before a retry's wait: nothing per item.)
                    func retried(_ attempt: Int, _ delay: Duration, _ error: any Error) async {
                        let retried = StageEvent(stage: name, item: x, kind: .retried(attempt: attempt, delay: delay, error: error))
                        for observer in observers { await observer.notify(retried) }
                    }
                    if let restart = resumed {
                        resumed = nil
                        attempt = restart.nextAttempt
                        start = restart.startedAt
                        do {
                            if stop.isSet { throw CancellationError() }   // begun (and counted) before the restart
                            try await retry.wait(beforeRetry: attempt - 1, after: watchdog.timeoutError, stop: stop, report: observing ? retried : nil)
                        } catch {
                            throw await ending(error, attempts: attempt - 1)
                        }
                    } else {
                        try outputs.beginItem()
                        if observing {
                            start = monotonicNanoseconds()
                            let started = StageEvent(stage: name, item: x, kind: .started)
                            for observer in observers { await observer.notify(started) }
                        }
                    }
                    while true {
                        watchdog.begin()
                        let y: B
                        do {
                            y = try await f(x)
                        } catch {
                            let timedOut = watchdog.end()
                            let failure = timedOut ? watchdog.timeoutError : error
                            let retrying: Bool
                            do {
                                retrying = timedOut
                                    ? try retry.retries(afterTimeout: failure, attempt: attempt, stop: stop)
                                    : try retry.retries(after: failure, attempt: attempt, stop: stop)
                            } catch {
                                throw await ending(error, attempts: attempt)
                            }
                            guard retrying else { throw await ending(failure, attempts: attempt) }
                            if timedOut { throw restart(after: attempt) }
                            do {
                                try await retry.wait(beforeRetry: attempt, after: error, stop: stop, report: observing ? retried : nil)
                            } catch {
                                throw await ending(error, attempts: attempt)
                            }
                            attempt += 1
                            continue
                        }
                        if watchdog.end() {
                            // Returned past its deadline: the result is discarded, as above.
                            let retrying: Bool
                            do {
                                retrying = try retry.retries(afterTimeout: watchdog.timeoutError, attempt: attempt, stop: stop)
                            } catch {
                                throw await ending(error, attempts: attempt)
                            }
                            guard retrying else { throw await ending(watchdog.timeoutError, attempts: attempt) }
                            throw restart(after: attempt)
                        }
                        if observing {
                            // One success event for the chunk, changed in place (as in
                            // `makeWithPolicies`).
                            if succeeded == nil { succeeded = StageEvent(stage: name, item: x, kind: .started) }
                            succeeded!.item = x
                            succeeded!.kind = .succeeded(duration: .nanoseconds(monotonicNanoseconds() - start), attempts: attempt)
                            if succeeded!.outputs.isEmpty { succeeded!.outputs.append(y) } else { succeeded!.outputs[0] = y }
                            for observer in observers { await observer.notify(succeeded!) }
                        }
                        try await outputs.append(y)
                        break
                    }
                    i += 1
                }
            }
        }, makeExpanding: { _, g in
            AsyncChunkKernel { input, outputs in
                for x in input {
                    try outputs.beginItem()
                    for y in try await g(x) { try await outputs.append(y) }
                }
            }
        })
    }
}

extension Kernels {
    /// The asynchronous `tryMap` kernel maker, specialized where it is built: its loop calls
    /// `transform` and makes each item's `Result` inline. (The per-item function the maker is given
    /// does the same as a closure; calling it would add an async call per item.) Only `make` is
    /// used: a railway stage's policies never run its kernel.
    @inlinable
    package static func asyncTryMap<A: Sendable, B: Sendable>(_ transform: @escaping @Sendable (A) async throws -> B) -> AsyncKernelMaker<A, Result<B, StageFailure>> {
        let generic: AsyncKernelMaker<A, Result<B, StageFailure>> = asyncMap()
        return AsyncKernelMaker(make: { context, _, _ in
            let name = context.name
            return AsyncChunkKernel { input, outputs in
                for x in input {
                    try outputs.beginItem()
                    let y: Result<B, StageFailure>
                    do {
                        y = .success(try await transform(x))
                    } catch let cancellation as CancellationError {
                        throw cancellation   // cancelling a run is never an item's failure
                    } catch {
                        y = .failure(StageFailure(stage: name, item: x, underlying: error))
                    }
                    try await outputs.append(y)
                }
            }
        }, makeWithPolicies: generic.makeWithPolicies, makeTimedAttempts: generic.makeTimedAttempts, makeExpanding: generic.makeExpanding)
    }
}

/// A one-stage asynchronous `map` flow with its specialized kernel.
@usableFromInline
package func asyncMapFlow<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) async throws -> B, kernel: AsyncKernelMaker<A, B>) -> Flow<A, B> {
    Flow(StageNode(kind: .map, body: MapBody(transform: .async(f), asyncKernel: kernel)))
}

/// A one-stage synchronous `map` flow with its specialized kernel.
@usableFromInline
package func mapFlow<A: Sendable, B: Sendable>(_ f: @escaping @Sendable (A) throws -> B, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<A, B>) -> Flow<A, B> {
    Flow(StageNode(kind: .map, body: MapBody(transform: .sync(f), kernel: kernel)))
}
