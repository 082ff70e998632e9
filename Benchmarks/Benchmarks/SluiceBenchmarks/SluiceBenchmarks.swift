import Benchmark

// Sluice benchmark suite. Each workload lives in its own file (W1…W6, W9) with its baselines; the Sluice
// implementations of the same workloads are in SluiceVariants.swift. Every implementation of a
// workload checks its checksum against the workload's reference on every run.
//
// Run everything:        swift package --package-path Benchmarks benchmark
// Run one workload:      swift package --package-path Benchmarks benchmark --filter "W1.*"

let benchmarks: @Sendable () -> Void = {
    W1TinyStages.register()
    W2FanOutIO.register()
    W3CPUFanOut.register()
    W4Backpressure.register()
    W5OrderedCost.register()
    W9FanOutFanIn.register()
    SluiceVariants.register()
}
