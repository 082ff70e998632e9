// Text forms of a metrics snapshot: a one-line progress display and a per-stage table.

extension MetricsSnapshot {
    /// One line for a live display, e.g.
    /// `3.2s | fetch 120 → 118 (retried 4) | parse 118 → 118 | 36.9 items/s`.
    ///
    /// The rate at the end is the source's: items read per second (the first stage's inputs), so
    /// a trailing `batch` does not make 16,000 rows/s look like 31 arrays/s. Per-stage rates are
    /// `inputsPerSecond(of:)` and `outputsPerSecond(of:)`; drops and rate-limit waits appear as
    /// notes (`dropped 12`, `throttled 1.50s`).
    ///
    /// ```swift
    /// PipelineMetrics(progressEvery: .milliseconds(200)) { print("\r" + $0.progressLine, terminator: "") }
    /// ```
    public var progressLine: String {
        var parts = [Self.seconds(elapsed)]
        for stage in stages {
            var part = "\(stage.name) \(stage.inputs) → \(stage.outputs)"
            var notes: [String] = []
            if stage.retries > 0 { notes.append("retried \(stage.retries)") }
            if stage.failures > 0 { notes.append("failed \(stage.failures)") }
            if stage.dropped > 0 { notes.append("dropped \(stage.dropped)") }
            if stage.throttled > .zero { notes.append("throttled \(Self.seconds(stage.throttled))") }
            if !notes.isEmpty { part += " (\(notes.joined(separator: ", ")))" }
            parts.append(part)
        }
        if let rate = sourceItemsPerSecond {
            parts.append("\(Self.decimal(rate, places: 1)) items/s")
        }
        return parts.joined(separator: " | ")
    }

    /// Items read from the source per second of the run (the first stage's inputs ÷ elapsed);
    /// `nil` before any time has passed or without stages.
    ///
    /// ```swift
    /// if let rate = metrics.snapshot().sourceItemsPerSecond { print("\(rate) rows/s") }
    /// ```
    public var sourceItemsPerSecond: Double? {
        guard let first = stages.first else { return nil }
        return inputsPerSecond(of: first)
    }

    /// Items that entered `stage` per second of the run; `nil` before any time has passed.
    ///
    /// ```swift
    /// let s = metrics.snapshot()
    /// if let fetch = s["fetch"], let rate = s.inputsPerSecond(of: fetch) { print("fetch: \(rate)/s") }
    /// ```
    ///
    /// - Parameter stage: One of this snapshot's stages.
    /// - Returns: Its input rate.
    public func inputsPerSecond(of stage: StageMetrics) -> Double? {
        elapsed > .zero ? Double(stage.inputs) / Self.secondsValue(elapsed) : nil
    }

    /// Items `stage` emitted per second of the run; `nil` before any time has passed.
    ///
    /// ```swift
    /// let s = metrics.snapshot()
    /// if let batch = s["batch"], let rate = s.outputsPerSecond(of: batch) { print("\(rate) batches/s") }
    /// ```
    ///
    /// - Parameter stage: One of this snapshot's stages.
    /// - Returns: Its output rate.
    public func outputsPerSecond(of stage: StageMetrics) -> Double? {
        elapsed > .zero ? Double(stage.outputs) / Self.secondsValue(elapsed) : nil
    }

    /// A table with one row per stage: items in and out, failures, retries, busy time, utilisation
    /// (busy ÷ (elapsed × workers)) and the output buffer (current/capacity, peak). A stage fused
    /// into the previous one's task shows `↑` for the task's figures.
    ///
    /// ```swift
    /// print(metrics.snapshot().table)
    /// // stage  kind    workers   in  out  failed  retried   busy  util  buffer
    /// // fetch  map           8  100  100       0        3  1.92s   24%  0/32 (peak 32)
    /// // parse  map           1  100  100       0        0  0.01s    0%  0/256 (peak 9)
    /// ```
    public var table: String {
        var rows = [["stage", "kind", "workers", "in", "out", "failed", "retried", "busy", "util", "buffer"]]
        for stage in stages {
            let shared = stage.sharesTaskWithPrevious
            let seconds = Self.secondsValue(elapsed) * Double(stage.workers)
            let util = seconds > 0 ? "\(Int((Self.secondsValue(stage.busy) / seconds * 100).rounded()))%" : "-"
            let buffer = stage.buffer.map { b in
                "\(b.current)/\(b.capacity == .max ? "∞" : String(b.capacity)) (peak \(b.highWater))"
            } ?? "-"
            rows.append([
                stage.name, stage.kind, shared ? "↑" : String(stage.workers),
                String(stage.inputs), String(stage.outputs), String(stage.failures), String(stage.retries),
                shared ? "↑" : Self.seconds(stage.busy), shared ? "↑" : util, buffer,
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let rightAligned: Set<Int> = [2, 3, 4, 5, 6, 7, 8]
        let lines = rows.map { row in
            String(row.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - row[column].count)
                return rightAligned.contains(column) ? pad + row[column] : row[column] + pad
            }.joined(separator: "  ").reversed().drop(while: { $0 == " " }).reversed())
        }
        let total = "\(Self.seconds(elapsed)) elapsed" + (isFinished ? "" : " (running)")
        return (lines + [total]).joined(separator: "\n")
    }

    static func secondsValue(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func seconds(_ d: Duration) -> String { decimal(secondsValue(d), places: 2) + "s" }

    /// `value` with `places` decimals, without Foundation.
    static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((abs(value) * scale).rounded())
        let whole = scaled / Int(scale), fraction = scaled % Int(scale)
        let digits = String(fraction)
        let padded = String(repeating: "0", count: max(0, places - digits.count)) + digits
        return (value < 0 ? "-" : "") + String(whole) + (places > 0 ? "." + padded : "")
    }
}
