// How a stage says it needs no more input (e.g. `prefix(n)` once it has n items).

/// Thrown by a *sequential* stage's kernel or body after it has produced its last output: the
/// worker hands over what the chunk produced, everything upstream is halted (the source is not
/// read again), and the stage's output ends normally, so the stages after it finish and the run
/// ends without an error. Stages before it in the same fused segment may have processed the rest
/// of the chunk it came in (at most one chunk more than needed).
///
/// Only a stage that cannot run with several workers (`isSequential`) may throw it.
@usableFromInline
package struct StageCompleted: Error, Sendable {
    @inlinable package init() {}
}
