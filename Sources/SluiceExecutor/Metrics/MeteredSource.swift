// A source that carries a metrics recorder to the executor: how a pipeline asks to be measured
// without the terminals knowing about metrics.

/// Implemented by `MeteredSource`, so the executor can find the recorder and the real source.
package protocol MeteredSourceBody {
    var base: any SourceBody { get }
    var recorder: MetricsRecorder { get }
}

/// `base`, to be read by a run that reports to `recorder`. The executor unwraps it before planning
/// (one cast per run), so the source itself is read exactly as without metrics.
package struct MeteredSource<Base: SourceBody>: SourceBody, MeteredSourceBody {
    package typealias Element = Base.Element
    package let wrapped: Base
    package let recorder: MetricsRecorder

    package init(_ base: Base, recorder: MetricsRecorder) {
        self.wrapped = base
        self.recorder = recorder
    }

    package var base: any SourceBody { wrapped }
    package var isSynchronous: Bool { wrapped.isSynchronous }
    package func open() async throws -> SourceCursor<Element> { try await wrapped.open() }
}

extension MetricsRecorder {
    /// Splits a source into the one to read and the recorder it carries (`nil` if not measured).
    package static func unwrap(_ source: any SourceBody) -> (source: any SourceBody, recorder: MetricsRecorder?) {
        guard let metered = source as? any MeteredSourceBody else { return (source, nil) }
        return (metered.base, metered.recorder)
    }
}
