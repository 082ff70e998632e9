// One parsed log line, and the incident it becomes once enriched.

struct LogRecord: Sendable {
    var level: Substring
    var path: Substring
    var status: Int
    var millis: Int
    var client: Substring

    /// Parses `<time> <LEVEL> GET <path> <status> <n>ms from <ip>`; nil for anything else.
    init?(parsing line: String) {
        let parts = line.split(separator: " ")
        guard parts.count == 8, parts[2] == "GET", parts[6] == "from",
              let status = Int(parts[4]), parts[5].hasSuffix("ms"),
              let millis = Int(parts[5].dropLast(2)) else { return nil }
        (level, path, self.status, self.millis, client) = (parts[1], parts[3], status, millis, parts[7])
    }

    /// Errors, warnings, failed requests and slow ones.
    var isProblem: Bool { level != "INFO" || status >= 400 || millis > 500 }
}

struct Incident: Sendable {
    var record: LogRecord
    var region: String

    init(_ record: LogRecord, region: String) {
        self.record = record
        self.region = region
    }
}

/// A stand-in for a slow network service: maps a client address to a region.
enum GeoDirectory {
    static let regions = ["eu-west", "eu-central", "us-east", "ap-south"]

    static func lookup(_ ip: Substring, latency: Duration) async throws -> String {
        try await Task.sleep(for: latency)   // simulated I/O
        let second = ip.split(separator: ".").dropFirst().first.flatMap { Int($0) } ?? 0
        return regions[second % regions.count]
    }
}
