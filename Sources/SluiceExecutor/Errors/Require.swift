// `require`: the one check for user-supplied configuration (workers, buffer, batch size, names,
// retry, backoff, timeouts, pool sizes). Internal invariants stay `precondition`/`assert`.

/// Stops the program with `message` unless `condition` holds: for invalid configuration, rejected
/// where it is written. Unlike `precondition`, whose message is dropped under `-O` (a release
/// build dies with an illegal instruction and prints nothing), `fatalError` prints the message in
/// every build configuration, so the message must name the stage, the parameter and the value:
/// `workers must be >= 1, got 0 (stage 'fetch')`.
///
/// ```swift
/// require(count >= 1, "workers must be >= 1, got \(count) (stage '\(node.name)')")
/// ```
@inline(__always)
package func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
