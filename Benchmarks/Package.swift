// swift-tools-version: 6.1
// Sluice benchmarks: a package of their own, so the library has no benchmark dependencies.
// package-benchmark and swift-async-algorithms (the peer baselines) are dependencies of this package only.
//
//   swift package --package-path Benchmarks benchmark                  # whole suite
//   swift package --package-path Benchmarks benchmark --filter "W1.*"  # one workload
//   SLUICE_VARIANTS=1 swift package --package-path Benchmarks benchmark  # include the Sluice variants
import PackageDescription

import class Foundation.ProcessInfo

var swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]
// The Sluice variants (SluiceVariants.swift) are compiled only with SLUICE_VARIANTS set, until the
// library they are written against exists.
if ProcessInfo.processInfo.environment["SLUICE_VARIANTS"] != nil {
    swiftSettings.append(.define("SLUICE_VARIANTS"))
}

let package = Package(
    name: "SluiceBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` keeps `package: "Sluice"` valid whatever the checkout directory is called.
        // Only the malloc interposer trait (malloc counts, peak memory). The default traits also
        // enable "RuntimeInterposer", which pulls swift-runtime-interposer in on Linux + Swift 6.3
        // for ARC counters we do not use.
        .package(
            url: "https://github.com/ordo-one/package-benchmark",
            from: "1.38.1",
            traits: ["MallocInterposer"]
        ),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
    ],
    targets: [
        .executableTarget(
            name: "SluiceBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            path: "Benchmarks/SluiceBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "package-benchmark"),
            ]
        ),
    ]
)
