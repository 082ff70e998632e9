// A mutable value held by reference, so that the closures built for one worker can share it.

/// One mutable value behind a class reference.
///
/// A worker's body is a set of closures (`push`, `finish`, a kernel's `process`); what they share —
/// a batch being filled, a scratch buffer, an opened resource, a pending output — lives in a box
/// they all capture. Not `Sendable`: a box belongs to the worker that made it.
///
/// ```swift
/// let pending = Box<[Int]>([])
/// let add = { (x: Int) in pending.value.append(x) }
/// add(1); add(2)
/// pending.value      // [1, 2]
/// ```
@usableFromInline
package final class Box<Value> {
    @usableFromInline package var value: Value

    @inlinable
    package init(_ value: Value) {
        self.value = value
    }
}
