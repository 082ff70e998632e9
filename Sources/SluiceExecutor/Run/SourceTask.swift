// The task that reads a source (when it is not read inside the first stage) into the first channel.

struct SourceTask<Element: Sendable> {
    let source: any SourceBody
    let output: Channel<Element>
    let chunk: Int
    /// Set when the run stops or a stage fails: the source is not read again.
    let stop: StopSignal

    /// Reads until the source ends. A source failure ends the channel after the items before it.
    func run() async {
        do {
            try await work()
            output.finish()
        } catch is CancellationError {
            // Stopped, not at the end of the source: never a normal end downstream.
            output.finish(failure: CancellationError())
        } catch {
            output.finish(failure: error)
        }
    }

    private func work() async throws {
        if stop.isSet { throw CancellationError() }
        // A fan-in source reads its inputs itself (Shapes/DrivingSource.swift).
        if let driving = source as? any DrivingSource {
            return try await driving.driveErased(into: output, stop: stop)
        }
        let cursor: SourceCursor<Element>
        do {
            cursor = try await source.openErased(as: Element.self, stop: stop)
        } catch {
            throw StageFailure.wrap(error, stage: "source", item: nil)
        }
        var batch: [Element] = []
        switch cursor {
        case .sync(let read):
            batch.reserveCapacity(chunk)
            var more = true
            while more {
                if stop.isSet { throw CancellationError() }
                var failure: (any Error)?
                do {
                    // No more than the channel takes now: what leaves the source follows demand.
                    more = try read(&batch, Swift.min(chunk, Swift.max(1, output.sendLimit)))
                } catch {
                    failure = StageFailure.wrap(error, stage: "source", item: nil)
                }
                try await output.send(&batch, urgent: !more || failure != nil)
                if let failure { throw failure }
            }
        case .async(let next):
            while true {
                if stop.isSet { throw CancellationError() }
                let item: Element?
                do {
                    item = try await next()
                } catch {
                    throw StageFailure.wrap(error, stage: "source", item: nil)
                }
                guard let item else { return }
                batch.append(item)
                try await output.send(&batch)
            }
        }
    }
}
