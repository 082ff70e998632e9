// The railway's graph nodes: which body each railway stage uses and how it routes items.
//
// Enter and stay (`try…`, `then…`) turn the closure's errors into failure values. Leave and the
// failure handler (`recover`, `successes`, `failures`, `mapFailure`) are plain `map`/`compactMap`
// bodies under their own kind: an error thrown by their closure fails the run like any stage's.
import SluiceExecutor

/// A railway item: a success, or the failure that took it off the rails.
package typealias Rail<T> = Result<T, StageFailure>

extension StageNode {
    // MARK: Enter

    package static func tryMap<A, B: Sendable>(_ transform: Transform<A, B>) -> StageNode {
        StageNode(kind: .tryMap, body: RailStepBody<A, A, B, Rail<B>>(
            transform: transform, route: { .call($0) }, output: { _, result in result }))
    }

    /// An asynchronous `tryMap` with its kernel, built where the element types are concrete.
    package static func tryMap<A, B: Sendable>(
        async f: @escaping @Sendable (A) async throws -> B, kernel: AsyncKernelMaker<A, Rail<B>>,
        item: @escaping @Sendable (String) -> @Sendable (A) async throws -> Rail<B>
    ) -> StageNode {
        var body = RailStepBody<A, A, B, Rail<B>>(transform: .async(f), route: { .call($0) }, output: { _, result in result })
        body.asyncKernel = (kernel, item)
        return StageNode(kind: .tryMap, body: body)
    }

    package static func tryFlatMap<A, S: Sequence>(_ expand: Transform<A, S>) -> StageNode where S.Element: Sendable {
        StageNode(kind: .tryFlatMap, body: RailExpandBody<A, A, S>(expand: expand, route: { .call($0) }))
    }

    package static func tryFlatMap<A: Sendable, S: AsyncSequence & Sendable>(async expand: @escaping @Sendable (A) async throws -> S) -> StageNode where S.Element: Sendable {
        StageNode(kind: .tryFlatMap, body: RailExpandAsyncBody<A, A, S>(expand: expand, route: { .call($0) }))
    }

    package static func tryFilter<A>(_ isIncluded: Transform<A, Bool>) -> StageNode {
        StageNode(kind: .tryFilter, body: RailStepBody<A, A, Bool, Rail<A>>(
            transform: isIncluded, route: { .call($0) },
            output: { item, result in
                switch result {
                case .success(let keep): keep ? .success(item) : nil
                case .failure(let failure): .failure(failure)
                }
            }))
    }

    package static func tryForEach<A>(_ action: Transform<A, Void>) -> StageNode {
        StageNode(kind: .tryForEach, body: RailStepBody<A, A, Void, Rail<A>>(
            transform: action, route: { .call($0) },
            output: { item, result in
                switch result {
                case .success: .success(item)
                case .failure(let failure): .failure(failure)
                }
            }))
    }

    // MARK: Stay

    package static func thenMap<A, B: Sendable>(_ transform: Transform<A, B>) -> StageNode {
        StageNode(kind: .thenMap, body: RailStepBody<Rail<A>, A, B, Rail<B>>(
            transform: transform, route: Self.routeSuccesses, output: { _, result in result }))
    }

    package static func thenFlatMap<A, S: Sequence>(_ expand: Transform<A, S>) -> StageNode where S.Element: Sendable {
        StageNode(kind: .thenFlatMap, body: RailExpandBody<Rail<A>, A, S>(expand: expand, route: Self.routeSuccesses))
    }

    package static func thenFlatMap<A: Sendable, S: AsyncSequence & Sendable>(async expand: @escaping @Sendable (A) async throws -> S) -> StageNode where S.Element: Sendable {
        StageNode(kind: .thenFlatMap, body: RailExpandAsyncBody<Rail<A>, A, S>(expand: expand, route: Self.routeSuccesses))
    }

    package static func thenFilter<A>(_ isIncluded: Transform<A, Bool>) -> StageNode {
        StageNode(kind: .thenFilter, body: RailStepBody<Rail<A>, A, Bool, Rail<A>>(
            transform: isIncluded, route: Self.routeSuccesses,
            output: { item, result in
                switch result {
                case .success(let keep): keep ? item : nil
                case .failure(let failure): .failure(failure)
                }
            }))
    }

    package static func thenForEach<A>(_ action: Transform<A, Void>) -> StageNode {
        StageNode(kind: .thenForEach, body: RailStepBody<Rail<A>, A, Void, Rail<A>>(
            transform: action, route: Self.routeSuccesses,
            output: { item, result in
                switch result {
                case .success: item
                case .failure(let failure): .failure(failure)
                }
            }))
    }

    /// Successes go to the closure; failures pass unchanged (re-typed for the stage's output).
    @Sendable
    static func routeSuccesses<A, B>(_ item: Rail<A>) -> RailRoute<A, Rail<B>> {
        switch item {
        case .success(let value): .call(value)
        case .failure(let failure): .pass(.failure(failure))
        }
    }

    // MARK: Handle failures, leave

    package static func mapFailure<T: Sendable>(_ transform: Transform<StageFailure, StageFailure>, of: T.Type) -> StageNode {
        let body: Transform<Rail<T>, Rail<T>>
        switch transform {
        case .sync(let f):
            body = .sync { item in
                guard case .failure(let failure) = item else { return item }
                return .failure(try f(failure))
            }
        case .async(let f):
            body = .async { item in
                guard case .failure(let failure) = item else { return item }
                return .failure(try await f(failure))
            }
        }
        return StageNode(kind: .mapFailure, body: MapBody(transform: body))
    }

    package static func recover<T: Sendable>(_ transform: Transform<StageFailure, T>) -> StageNode {
        let body: Transform<Rail<T>, T>
        switch transform {
        case .sync(let f):
            body = .sync { item in
                switch item {
                case .success(let value): value
                case .failure(let failure): try f(failure)
                }
            }
        case .async(let f):
            body = .async { item in
                switch item {
                case .success(let value): value
                case .failure(let failure): try await f(failure)
                }
            }
        }
        return StageNode(kind: .recover, body: MapBody(transform: body))
    }
}

/// The `successes` stage with its kernel specialized where it is built (`op.successes()`).
@usableFromInline
package func successesFlow<T: Sendable>(_ keep: @escaping @Sendable (Result<T, StageFailure>) -> T?, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<Result<T, StageFailure>, T>) -> Flow<Result<T, StageFailure>, T> {
    Flow(StageNode(kind: .successes, body: CompactMapBody(transform: .sync(keep), kernel: kernel)))
}

/// The `failures` stage with its kernel specialized where it is built (`op.failures()`).
@usableFromInline
package func failuresFlow<T: Sendable>(_ keep: @escaping @Sendable (Result<T, StageFailure>) -> StageFailure?, kernel: @escaping @Sendable (StageContext) -> ChunkKernel<Result<T, StageFailure>, StageFailure>) -> Flow<Result<T, StageFailure>, StageFailure> {
    Flow(StageNode(kind: .failures, body: CompactMapBody(transform: .sync(keep), kernel: kernel)))
}

/// A one-stage asynchronous `tryMap` flow with its specialized kernel.
@usableFromInline
package func asyncTryMapFlow<A: Sendable, B: Sendable>(
    _ f: @escaping @Sendable (A) async throws -> B, kernel: AsyncKernelMaker<A, Result<B, StageFailure>>,
    item: @escaping @Sendable (String) -> @Sendable (A) async throws -> Result<B, StageFailure>
) -> Flow<A, Result<B, StageFailure>> {
    Flow(StageNode.tryMap(async: f, kernel: kernel, item: item))
}
