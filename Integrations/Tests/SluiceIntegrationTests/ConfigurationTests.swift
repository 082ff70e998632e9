// Bad configuration is a clear error naming the parameter and the value (no server needed).
import SluicePostgres
import Testing

@Suite("Configuration errors")
struct ConfigurationTests {
    @Test(arguments: [
        (PostgresQueueConfiguration(table: "jobs; DROP TABLE x"), "table must be a plain SQL identifier", "\"jobs; DROP TABLE x\""),
        (PostgresQueueConfiguration(table: "1jobs"), "table must be a plain SQL identifier", "\"1jobs\""),
        (PostgresQueueConfiguration(table: "a.b.c"), "table must be a plain SQL identifier", "\"a.b.c\""),
        (PostgresQueueConfiguration(maxAttempts: 0), "maxAttempts must be >= 1", "got 0"),
        (PostgresQueueConfiguration(backoff: .seconds(-1)), "backoff must be >= 0", "got -1.0 seconds"),
        (PostgresQueueConfiguration(backoff: .seconds(10), maxBackoff: .seconds(5)), "maxBackoff must be >= backoff", "got 5.0 seconds"),
        (PostgresQueueConfiguration(enqueueChunk: 0), "enqueueChunk must be in 1...100000", "got 0"),
    ])
    func invalidValuesAreNamed(configuration: PostgresQueueConfiguration, parameter: String, value: String) {
        let error = #expect(throws: PostgresQueueError.self) { try configuration.validated() }
        #expect(error?.description.contains(parameter) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains(value) == true, "\(error?.description ?? "")")
    }

    @Test func validValuesPass() throws {
        let configuration = PostgresQueueConfiguration(table: "jobs.mail_queue", maxAttempts: 1, backoff: .zero, maxBackoff: .zero)
        #expect(try configuration.validated() == configuration)
    }
}
