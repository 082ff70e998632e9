// The task that reads a source (when it is not read inside the first stage) into the first channel.

struct SourceTask<Element: Sendable> {
    let source: any SourceBody
    let output: Channel<Element>
    let chunk: Int
    let run: RunState

    func runReportingFailure() async {
        do {
            try await work()
            output.finish()
        } catch {
            run.fail(error)
        }
    }

    private func work() async throws {
        let cursor: SourceCursor<Element>
        do {
            cursor = try await source.openErased(as: Element.self)
        } catch {
            throw StageFailure.wrap(error, stage: "source", item: nil)
        }
        var batch: [Element] = []
        switch cursor {
        case .sync(let read):
            batch.reserveCapacity(chunk)
            var more = true
            while more {
                if run.isStopped { throw CancellationError() }
                do {
                    more = try read(&batch, chunk)
                } catch {
                    throw StageFailure.wrap(error, stage: "source", item: nil)
                }
                try await output.send(&batch, urgent: !more)
            }
        case .async(let next):
            while true {
                if run.isStopped { throw CancellationError() }
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
