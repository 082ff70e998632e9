// A user closure that is either synchronous or asynchronous, known when the stage is built.

/// The two closure shapes every stage constructor accepts: the synchronous one can be fused.
package enum Transform<A: Sendable, B>: Sendable {
    case sync(@Sendable (A) throws -> B)
    case async(@Sendable (A) async throws -> B)

    package var isSync: Bool {
        if case .sync = self { return true }
        return false
    }

    /// The synchronous closure, if it is one.
    package var sync: (@Sendable (A) throws -> B)? {
        if case .sync(let f) = self { return f }
        return nil
    }

    /// Calls the closure, wrapping its error in a `StageFailure` for `stage` and the item.
    @inlinable
    package func callAsync(_ x: A, stage: String) async throws -> B {
        do {
            switch self {
            case .sync(let f): return try f(x)
            case .async(let f): return try await f(x)
            }
        } catch {
            throw StageFailure.wrap(error, stage: stage, item: x)
        }
    }
}

/// Calls a synchronous closure, wrapping its error in a `StageFailure`.
@inlinable
package func callSync<A: Sendable, B>(_ f: (A) throws -> B, _ x: A, stage: String) throws -> B {
    do {
        return try f(x)
    } catch {
        throw StageFailure.wrap(error, stage: stage, item: x)
    }
}
