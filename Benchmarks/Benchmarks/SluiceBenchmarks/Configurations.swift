import Benchmark

// Metric sets and run budgets shared by every workload. Budgets are small on purpose: the whole suite
// (baselines and Sluice variants) has to finish in a few minutes on the 2-core benchmark machine.

extension Benchmark.Configuration {
    /// The metrics every workload reports. `throughput` is runs per second; multiply by the workload's
    /// item count for items per second.
    static let standardMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

    /// A workload configuration: runs until `maxIterations` runs or `maxDuration`, whichever comes first.
    /// - Parameters:
    ///   - peakMemory: also report `peakMemoryResident` (the backpressure workloads).
    static func workload(
        warmup: Int = 1,
        maxIterations: Int,
        maxDuration: Duration = .seconds(5),
        peakMemory: Bool = false
    ) -> Self {
        .init(
            metrics: standardMetrics + (peakMemory ? [.peakMemoryResident] : []),
            warmupIterations: warmup,
            maxDuration: maxDuration,
            maxIterations: maxIterations
        )
    }
}
