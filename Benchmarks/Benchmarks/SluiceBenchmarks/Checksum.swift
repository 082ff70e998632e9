// Every implementation of a workload computes a checksum; all of them must agree with the reference
// (usually the plain loop). A mismatch stops the run: a fast wrong answer is not a result.

/// Stops the benchmark process when `actual` differs from `expected`.
func verify(_ actual: Int, equals expected: Int, _ implementation: String) {
    precondition(
        actual == expected,
        "\(implementation): checksum \(actual) differs from the expected \(expected)"
    )
}
