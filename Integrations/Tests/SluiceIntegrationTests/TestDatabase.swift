// The real PostgreSQL server the tests talk to: started by scripts/with-postgres.sh, which exports
// SLUICE_PGHOST/SLUICE_PGPORT/SLUICE_PGUSER/SLUICE_PGDATABASE. Without them, the suites that need
// the server are skipped (with that reason), so a plain `swift test` passes.
import Foundation
import Logging
import PostgresNIO
import Testing

enum TestDatabase {
    /// Why the PostgreSQL tests are skipped when they are.
    static let skipReason: Comment =
        "no PostgreSQL: SLUICE_PGHOST/SLUICE_PGPORT are not set; run through Integrations/scripts/with-postgres.sh"

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// True when the script's variables are set.
    static var isAvailable: Bool { environment["SLUICE_PGHOST"] != nil && environment["SLUICE_PGPORT"] != nil }

    static var configuration: PostgresClient.Configuration {
        let env = environment
        var configuration = PostgresClient.Configuration(
            host: env["SLUICE_PGHOST"] ?? "127.0.0.1",
            port: Int(env["SLUICE_PGPORT"] ?? "") ?? 5432,
            username: env["SLUICE_PGUSER"] ?? "sluice",
            password: nil,
            database: env["SLUICE_PGDATABASE"] ?? "sluice_test",
            tls: .disable)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// postgres-nio's background messages, errors only (a pool racing its own start logs a warning).
    static var quietLogger: Logger {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        return logger
    }

    /// Runs `body` with a running client, shut down afterwards.
    static func withClient<R: Sendable>(_ body: (PostgresClient) async throws -> R) async throws -> R {
        let client = PostgresClient(configuration: configuration, backgroundLogger: quietLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// A table name no other test uses.
    static func uniqueTable(_ base: String) -> String {
        "\(base)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Polls `condition` until it holds, failing after `timeout`: the tests wait on counts read from the
/// database, not on sleeps.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while try await !condition() {
        guard clock.now < deadline else {
            throw TimeoutError(description: "timed out after \(timeout) waiting until \(what)")
        }
        try await Task.sleep(for: interval)
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    var description: String
}
