// Text forms of a metrics snapshot: a one-line progress display and a per-stage table.

extension MetricsSnapshot {
    /// One line for a live display, e.g.
    /// `3.2s | fetch 120 → 118 (retried 4) | parse 118 → 118 | 36.9 items/s`.
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
            if !notes.isEmpty { part += " (\(notes.joined(separator: ", ")))" }
            parts.append(part)
        }
        if let last = stages.last, elapsed > .zero {
            parts.append("\(Self.decimal(Double(last.outputs) / Self.secondsValue(elapsed), places: 1)) items/s")
        }
        return parts.joined(separator: " | ")
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
