// swift-tools-version: 6.1
// Sluice benchmarks: a package of their own, so the library has no benchmark dependencies.
// ordo-one/benchmark (formerly package-benchmark) and swift-async-algorithms (the peer baselines) are dependencies of this package only.
//
//   swift package --package-path Benchmarks benchmark                  # whole suite
//   swift package --package-path Benchmarks benchmark --filter "W1.*"  # one workload
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "SluiceBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` keeps `package: "Sluice"` valid whatever the checkout directory is called.
        .package(name: "Sluice", path: ".."),
        // Only the malloc interposer trait (malloc counts, peak memory). The default traits also
        // enable "RuntimeInterposer", which pulls swift-runtime-interposer in on Linux + Swift 6.3
        // for ARC counters we do not use.
        .package(
            url: "https://github.com/ordo-one/benchmark",
            from: "1.38.1",
            traits: ["MallocInterposer"]
        ),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
    ],
    targets: [
        // The same workloads outside package-benchmark (which takes one of two threads): ratios for
        // Docs/Performance.md in one run. `swift run --package-path Benchmarks -c release sluice-throughput`
        .executableTarget(
            name: "sluice-throughput",
            dependencies: [
                .product(name: "Sluice", package: "Sluice"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            path: "Throughput",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SluiceBenchmarks",
            dependencies: [
                .product(name: "Sluice", package: "Sluice"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            path: "Benchmarks/SluiceBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
