// swift-tools-version: 6.1
// Sluice integrations: a package of their own, so the library keeps zero dependencies.
// postgres-nio, swift-service-lifecycle, swift-metrics and swift-log are dependencies of this package only.
//
//   swift build --package-path Integrations
//   Integrations/scripts/with-postgres.sh swift test --package-path Integrations   # against a real PostgreSQL
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let sluice: Target.Dependency = .product(name: "Sluice", package: "Sluice")
let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "SluiceIntegrations",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SluicePostgres", targets: ["SluicePostgres"]),
        .library(name: "SluiceServiceLifecycle", targets: ["SluiceServiceLifecycle"]),
        .library(name: "SluiceMetrics", targets: ["SluiceMetrics"]),
        .executable(name: "sluice-worker", targets: ["sluice-worker"]),
    ],
    dependencies: [
        // `name:` keeps `package: "Sluice"` valid whatever the checkout directory is called.
        .package(name: "Sluice", path: ".."),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // A durable work queue on a PostgreSQL table, as an acknowledged Sluice source, and a
        // batched idempotent insert sink.
        .target(
            name: "SluicePostgres",
            dependencies: [sluice, postgresNIO, logging],
            swiftSettings: swiftSettings
        ),
        // A pipeline as a swift-service-lifecycle `Service`: SIGTERM is a graceful stop.
        .target(
            name: "SluiceServiceLifecycle",
            dependencies: [sluice, serviceLifecycle, logging],
            swiftSettings: swiftSettings
        ),
        // `PipelineMetrics` published to swift-metrics with one call.
        .target(
            name: "SluiceMetrics",
            dependencies: [sluice, metrics],
            swiftSettings: swiftSettings
        ),
        // One pipeline over the PostgreSQL queue: claim → process → idempotent insert → acknowledge.
        .executableTarget(
            name: "sluice-worker",
            dependencies: ["SluicePostgres", "SluiceServiceLifecycle", sluice, postgresNIO, serviceLifecycle, logging],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceIntegrationTests",
            dependencies: [
                "SluicePostgres", "SluiceServiceLifecycle", "SluiceMetrics", sluice, postgresNIO, serviceLifecycle, metrics, logging,
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
