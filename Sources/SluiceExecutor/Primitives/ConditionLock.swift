// A pthread mutex with a condition variable, guarding one value: what a thread that must *sleep* until
// work arrives needs (`Synchronization.Mutex` has no condition variable).
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value guarded by a mutex, with a condition variable to wait for it to change.
///
/// Waiters re-check their predicate under the lock, so `signal`/`broadcast` may be called after
/// the lock is released (the state change itself must happen inside `withLock`). A pthread mutex,
/// like `Lock`, so that the thread sanitizer sees every hand-off.
///
/// ```swift
/// let ready = ConditionLock(false)
/// // one thread:
/// ready.withLock { $0 = true }
/// ready.broadcast()
/// // another:
/// ready.withLock(waitingUntil: { $0 }) { _ in }
/// ```
package final class ConditionLock<State: Sendable>: @unchecked Sendable {
    // Sendable without checking, proven: `state` is only read or written between `pthread_mutex_lock` and
    // `pthread_mutex_unlock` on `mutex` (in `withLock`, and in `withLock(waitingUntil:)`, where
    // `pthread_cond_wait` re-acquires the mutex before returning). `State: Sendable`, so a value
    // copied out of the state (a result, a captured part) may be used on any thread afterwards.
    // The mutex and condition live at fixed heap addresses for the object's whole life, as
    // pthreads requires.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Unchecked: every access is between `pthread_mutex_lock` and `pthread_mutex_unlock` (see above).
    @exclusivity(unchecked) private var state: State

    package init(_ initial: State) {
        state = initial
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        precondition(pthread_cond_init(condition, nil) == 0, "pthread_cond_init failed")
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deinitialize(count: 1)
        mutex.deinitialize(count: 1)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state.
    package func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Sleeps until `ready(state)` holds, then runs `body` with exclusive access to the state.
    package func withLock<R>(waitingUntil ready: (State) -> Bool, _ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(state) { pthread_cond_wait(condition, mutex) }
        return try body(&state)
    }

    /// Wakes one waiter.
    package func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter.
    package func broadcast() { pthread_cond_broadcast(condition) }
}
