// A pipeline as a swift-service-lifecycle `Service`: the group's graceful shutdown (SIGTERM, or
// `triggerGracefulShutdown()`) is the pipeline's graceful stop; cancellation stays cancellation.
import ServiceLifecycle
import Sluice

/// Runs a pipeline as a swift-service-lifecycle `Service`. When the service group shuts down
/// gracefully (on SIGTERM, say), the pipeline gets a `GracefulStop` request: its source reads nothing
/// more, the items already read finish (and, in an acknowledged pipeline, are acknowledged), and
/// `run()` returns normally. If that takes longer than `stopDeadline`, the run is cancelled and
/// `run()` throws `PipelineTimeout` (limit `.gracefulStop`).
///
/// ```swift
/// let service = PipelineService(name: "mailer", stopDeadline: .seconds(30)) { stop in
///     try await (try queue.pipeline(lease: .seconds(60)) | op.map(send).workers(8))
///         .withGracefulStop(stop)
///         .drain()
/// }
/// let group = ServiceGroup(
///     services: [postgresClient, service],           // stopped in reverse: the pipeline first
///     gracefulShutdownSignals: [.sigterm, .sigint],
///     logger: logger)
/// try await group.run()
/// ```
///
/// A pipeline that ends by itself (a drained batch job) returns from `run()`; give its
/// `ServiceGroupConfiguration.ServiceConfiguration` a `successTerminationBehavior` of
/// `.gracefullyShutdownGroup` to stop the rest of the group then.
public struct PipelineService: Service, CustomStringConvertible {
    /// The service's name, as the group logs it.
    public let name: String
    /// How long the items already read may take to finish after a graceful shutdown starts; `nil`:
    /// no limit of the pipeline's own (the group's `gracefulShutdownTimeout` still applies).
    public let stopDeadline: Duration?
    let body: @Sendable (GracefulStop) async throws -> Void

    /// A service that runs `body` with a `GracefulStop` it requests on graceful shutdown.
    ///
    /// ```swift
    /// let service = PipelineService(name: "ingest") { stop in
    ///     try await pipeline.withGracefulStop(stop).forEach(store)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - name: For logs.
    ///   - stopDeadline: Passed to `GracefulStop.request(deadline:)`; more than zero, or `nil` (a
    ///     precondition, kept in release builds).
    ///   - body: Runs the pipeline with `.withGracefulStop(stop)` and a terminal.
    public init(
        name: String = "sluice-pipeline", stopDeadline: Duration? = .seconds(30),
        _ body: @escaping @Sendable (GracefulStop) async throws -> Void
    ) {
        if let stopDeadline, stopDeadline <= .zero {
            fatalError("PipelineService: stopDeadline must be > 0 or nil, got \(stopDeadline)")
        }
        self.name = name
        self.stopDeadline = stopDeadline
        self.body = body
    }

    /// A service that drains an acknowledged pipeline (every item's acknowledgement is its result).
    ///
    /// ```swift
    /// let service = PipelineService(name: "worker", try queue.pipeline() | op.map(handle) | sink.flow)
    /// ```
    public init<Element: Sendable>(
        name: String = "sluice-pipeline", stopDeadline: Duration? = .seconds(30),
        _ pipeline: AcknowledgedPipeline<Element>
    ) {
        self.init(name: name, stopDeadline: stopDeadline) { stop in
            try await pipeline.withGracefulStop(stop).drain()
        }
    }

    /// A service that runs a pipeline and hands each output to `body`.
    ///
    /// ```swift
    /// let service = PipelineService(name: "tail", Pipeline(events) | op.map(parse)) { record in
    ///     try await store(record)
    /// }
    /// ```
    public init<Element: Sendable>(
        name: String = "sluice-pipeline", stopDeadline: Duration? = .seconds(30),
        _ pipeline: Pipeline<Element>,
        forEach handle: @escaping @Sendable (Element) async throws -> Void
    ) {
        self.init(name: name, stopDeadline: stopDeadline) { stop in
            try await pipeline.withGracefulStop(stop).forEach(handle)
        }
    }

    /// Runs the pipeline until it ends, or until a graceful shutdown has let it finish what it read.
    ///
    /// ```swift
    /// try await service.run()   // usually the ServiceGroup calls this
    /// ```
    public func run() async throws {
        let stop = GracefulStop()
        let deadline = stopDeadline
        try await withGracefulShutdownHandler {
            try await body(stop)
        } onGracefulShutdown: {
            stop.request(deadline: deadline)
        }
    }

    /// `PipelineService(name)`.
    public var description: String { "PipelineService(\(name))" }
}
