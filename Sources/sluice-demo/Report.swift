// Aggregates incidents and prints the summary.

struct Report {
    var batches = 0
    var incidents = 0
    var byRegion: [String: Int] = [:]
    var byStatus: [Int: Int] = [:]
    var byPath: [Substring: Int] = [:]
    var slowest: (millis: Int, path: Substring) = (0, "")

    mutating func add(_ batch: [Incident]) {
        batches += 1
        incidents += batch.count
        for incident in batch {
            byRegion[incident.region, default: 0] += 1
            byStatus[incident.record.status, default: 0] += 1
            byPath[incident.record.path, default: 0] += 1
            if incident.record.millis > slowest.millis { slowest = (incident.record.millis, incident.record.path) }
        }
    }

    func summary(lines: Int, elapsed: Duration) -> String {
        let regions = byRegion.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let statuses = byStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let paths = byPath.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
        return """

        \(lines) lines → \(incidents) incidents in \(batches) batches, in \(format(elapsed))
          by region:  \(regions)
          by status:  \(statuses)
          top paths:  \(paths)
          slowest:    \(slowest.path) took \(slowest.millis) ms
        """
    }
}

func format(_ d: Duration) -> String {
    let ms = Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
    return ms >= 1_000 ? "\(Double(Int(ms / 10)) / 100) s" : "\(Double(Int(ms * 10)) / 10) ms"
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
