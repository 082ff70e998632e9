// Calling a user closure on the railway: its error becomes a failure value, cancellation does not.

/// Runs one railway step. Every error the closure throws becomes a `.failure` naming the stage and
/// the item, except `CancellationError`: cancelling a run is never an item's failure, so it is
/// rethrown and ends the run as a cancellation.
package enum Attempt {
    @inlinable
    package static func sync<A: Sendable, B>(_ f: (A) throws -> B, _ x: A, stage: String) throws -> Result<B, StageFailure> {
        do {
            return .success(try f(x))
        } catch let cancellation as CancellationError {
            throw cancellation
        } catch {
            return .failure(StageFailure(stage: stage, item: x, underlying: error))
        }
    }

    @inlinable
    package static func async<A: Sendable, B>(_ f: Transform<A, B>, _ x: A, stage: String) async throws -> Result<B, StageFailure> {
        switch f {
        case .sync(let f):
            return try sync(f, x, stage: stage)
        case .async(let f):
            do {
                return .success(try await f(x))
            } catch let cancellation as CancellationError {
                throw cancellation
            } catch {
                return .failure(StageFailure(stage: stage, item: x, underlying: error))
            }
        }
    }
}
