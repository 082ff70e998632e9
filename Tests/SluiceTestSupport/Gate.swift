// A gate tasks wait at until a test opens it: synchronisation without sleeps.
import SluiceExecutor

/// Tasks calling `wait()` suspend until `open()`; after that, `wait()` returns at once.
/// Waiting is cancellable (a cancelled waiter throws `CancellationError`).
public final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Lock(State())

    public init() {}

    public var isOpen: Bool { state.withLock { $0.isOpen } }
    /// Tasks currently waiting.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    public func open() {
        let waiters = state.withLock { s in
            s.isOpen = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    public func wait() async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLock { s in
                    if s.isOpen { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = c
                    return nil
                }
                if let resumeNow { c.resume(with: resumeNow) }
            }
        } onCancel: {
            let c = state.withLock { $0.waiters.removeValue(forKey: id) }
            c?.resume(throwing: CancellationError())
        }
    }
}
