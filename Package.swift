// swift-tools-version: 6.1
// Sluice: typed, concurrent, backpressured async pipelines. Zero package dependencies.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Sluice",
    // Every platform whose Swift 6 runtime has `TaskExecutor`, `Mutex` and `Atomic` (Swift 6.0 runtimes).
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "Sluice", targets: ["Sluice"]),
        .executable(name: "sluice-demo", targets: ["sluice-demo"]),
    ],
    targets: [
        // The executor: plans a stage graph and runs it on bounded channels in one task group.
        // It knows nothing about the DSL.
        .target(name: "SluiceExecutor", swiftSettings: strict),
        // The front ends (`op` + `|`, `@FlowBuilder`), `Flow`, `Pipeline` and the terminals.
        .target(name: "Sluice", dependencies: ["SluiceExecutor"], swiftSettings: strict),
        .executableTarget(name: "sluice-demo", dependencies: ["Sluice"], swiftSettings: strict),
        // Deterministic synchronisation for the package's own tests: gates, counters, a test clock.
        .target(name: "SluiceTestSupport", dependencies: ["SluiceExecutor"], path: "Tests/SluiceTestSupport", swiftSettings: strict),
        .testTarget(name: "SluiceExecutorTests", dependencies: ["SluiceExecutor", "SluiceTestSupport"], swiftSettings: strict),
        .testTarget(name: "SluiceTests", dependencies: ["Sluice", "SluiceExecutor", "SluiceTestSupport"], swiftSettings: strict),
    ]
)
