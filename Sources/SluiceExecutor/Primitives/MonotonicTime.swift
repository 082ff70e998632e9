// A monotonic clock read straight from the C library, for timing items on hot paths.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the clock `ContinuousClock` reads (`CLOCK_BOOTTIME` on Linux and Android,
/// which counts time the system spends suspended; `CLOCK_MONOTONIC` elsewhere, which on Darwin
/// does too), for measuring how long something took: subtract two readings. So a duration an
/// observed kernel reports is the one `ContinuousClock` would give.
///
/// `ContinuousClock.now` goes through the concurrency runtime and builds an `Instant` (about 75
/// instructions a read on top of the system call's own work, callgrind); an observed stage reads
/// the clock twice per item.
///
/// ```swift
/// let start = monotonicNanoseconds()
/// work()
/// let took = Duration.nanoseconds(monotonicNanoseconds() - start)
/// ```
@inlinable
package func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    #if os(Linux) || os(Android)
    clock_gettime(CLOCK_BOOTTIME, &now)
    #else
    clock_gettime(CLOCK_MONOTONIC, &now)
    #endif
    return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
}
