// `Lock<Value>`: a value guarded by a pthread mutex — `Synchronization.Mutex`'s API, visible to TSan.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value that is only reachable while a mutex is held.
///
/// Why not `Synchronization.Mutex`: on Linux its lock hand-off happens inside the (uninstrumented)
/// Synchronization library, so the thread sanitizer cannot see it and reports every contended
/// `withLock` body as a data race — even a two-task counter. The sanitizer intercepts
/// `pthread_mutex_lock`, so with this lock `swift test --sanitize=thread` reports real races only.
/// Same API as `Mutex`: `withLock { state in … }`.
///
/// ```swift
/// let count = Lock(0)
/// count.withLock { $0 += 1 }
/// ```
@usableFromInline
package final class Lock<Value>: @unchecked Sendable {
    // Sendable without checking, proven: `value` is read and written only inside `withLock`, while
    // `mutex` is held; values come in and go out as `sending` (as with `Mutex`), so no unguarded
    // reference escapes. The mutex lives at a fixed heap address for the object's whole life.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Unchecked: the mutex already makes every access exclusive (a nested `withLock` on the
    /// same lock would deadlock before it could overlap), so the runtime's check on each access,
    /// a call of about 80 instructions, proves nothing more.
    @exclusivity(unchecked) @usableFromInline var value: Value

    package init(_ initialValue: sending Value) {
        value = initialValue
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        #if canImport(Glibc)
        // Adaptive: a contended lock spins briefly before it sleeps in the kernel. The channel's
        // critical sections are a few hundred instructions, so a waiter usually gets the lock
        // while spinning; sleeping instead costs two system calls and a thread wake-up (W4).
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        let status = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        #else
        let status = pthread_mutex_init(mutex, nil)
        #endif
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    package func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        lock()
        defer { unlock() }
        return try body(&value)
    }

    @usableFromInline func lock() {
        pthread_mutex_lock(mutex)
    }

    @usableFromInline func unlock() {
        pthread_mutex_unlock(mutex)
    }
}
