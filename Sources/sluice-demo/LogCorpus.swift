// The embedded input: a deterministic, generated web-server access log.

/// `lines` log lines, generated from a fixed seed (the same every run).
struct LogCorpus: Sequence, Sendable {
    let lines: Int

    static let paths = ["/", "/login", "/api/users", "/api/orders", "/api/search", "/static/app.js", "/checkout", "/admin"]
    static let levels = ["INFO", "INFO", "INFO", "INFO", "INFO", "WARN", "ERROR"]

    struct Iterator: IteratorProtocol {
        var remaining: Int
        var state: UInt64 = 0x5EED_1CE5

        mutating func random(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }

        mutating func next() -> String? {
            guard remaining > 0 else { return nil }
            remaining -= 1
            if random(97) == 0 { return "#### corrupted line ####" }
            let level = LogCorpus.levels[random(LogCorpus.levels.count)]
            let path = LogCorpus.paths[random(LogCorpus.paths.count)]
            let status = level == "ERROR" ? [500, 502, 503][random(3)] : (random(10) == 0 ? 404 : 200)
            let ip = "10.\(random(4)).\(random(256)).\(random(256))"
            let millis = 2 + random(level == "INFO" ? 40 : 900)
            return "2026-11-21T10:\(random(60)):\(random(60))Z \(level) GET \(path) \(status) \(millis)ms from \(ip)"
        }
    }

    func makeIterator() -> Iterator { Iterator(remaining: lines) }
}
