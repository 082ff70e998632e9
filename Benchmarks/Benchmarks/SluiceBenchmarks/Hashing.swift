// Deterministic integer work used by the CPU-bound workloads (W3, W4).

/// One round of the SplitMix64 finaliser: a few multiplies and shifts with a serial data dependency,
/// so the compiler can neither vectorise nor fold a chain of rounds.
@inline(__always)
func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z &>> 31)
}

/// `rounds` chained rounds of `mix` over `x`. About 3.6 ns per round on the benchmark machine
/// (2-core AMD EPYC VM, Swift 6.3.1, -O). Not inlined, so every caller pays one real call per item.
@inline(never)
func hashRounds(_ x: Int, rounds: Int) -> Int {
    var h = UInt64(bitPattern: Int64(x))
    for _ in 0..<rounds {
        h = mix(h)
    }
    return Int(truncatingIfNeeded: h)
}
