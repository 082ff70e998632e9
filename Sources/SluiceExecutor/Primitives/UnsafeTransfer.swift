// Hands a non-`Sendable` value to another task without the compiler's check: every use is visible
// by name and carries its own proof.

/// Carries a value that is not `Sendable` across an isolation boundary, unchecked.
///
/// The compiler cannot prove such a transfer safe, so the wrapper says it is `Unsafe…` and each
/// use must say why the value is never used by two tasks at once. The pattern it is made for: a
/// task creates a child task that uses the value, and from then on does nothing but await that
/// child's end (a task group the child belongs to). Task creation orders the owner's earlier uses
/// before the child's, and the child's completion orders them before the owner's later uses.
///
/// ```swift
/// let work = UnsafeTransfer(next)          // `next` is not Sendable
/// try await withThrowingTaskGroup(of: Int.self) { group in
///     group.addTask { try await work.value() }
///     return try await group.next()!       // the owner only waits for the child
/// }
/// ```
package struct UnsafeTransfer<Value>: @unchecked Sendable {
    // Sendable without checking: not proven here, by design. Each use site states why the value is used
    // by one task at a time (see above); grep for `UnsafeTransfer(` to audit them all.
    package let value: Value

    package init(_ value: Value) {
        self.value = value
    }
}
