// The batched idempotent insert against a real PostgreSQL: duplicates are skipped, many statements
// per batch, and a wrong binder is a clear error.
import PostgresNIO
import Sluice
import SluicePostgres
import Testing

struct Square: Sendable {
    var n: Int64
    var square: Int64
}

@Suite("PostgreSQL idempotent insert", .enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
struct IdempotentInsertTests {
    func makeSink(_ client: PostgresClient, rowsPerStatement: Int = 1_000) async throws -> PostgresIdempotentInsert<Square> {
        let table = TestDatabase.uniqueTable("squares")
        try await client.query("CREATE TABLE \(unescaped: table) (n BIGINT PRIMARY KEY, square BIGINT NOT NULL)")
        return try PostgresIdempotentInsert<Square>(
            client: client, table: table, columns: ["n", "square"], conflictColumns: ["n"],
            rowsPerStatement: rowsPerStatement
        ) { row, binds in
            binds.append(row.n)
            binds.append(row.square)
        }
    }

    func rows(_ client: PostgresClient, _ table: String) async throws -> (count: Int64, sum: Int64) {
        let rows = try await client.query("SELECT count(*), coalesce(sum(square), 0)::bigint FROM \(unescaped: table)")
        for try await row in rows.decode((Int64, Int64).self) { return (row.0, row.1) }
        return (0, 0)
    }

    @Test func writingTheSameRowsAgainChangesNothing() async throws {
        try await TestDatabase.withClient { client in
            let sink = try await makeSink(client, rowsPerStatement: 7)   // 100 rows: 15 statements
            let squares = (1...100).map { Square(n: Int64($0), square: Int64($0 * $0)) }
            #expect(try await sink.insert(squares) == 100)
            #expect(try await sink.insert(squares) == 0)
            #expect(try await sink.insert(Array(squares[90...]) + [Square(n: 101, square: 10_201)]) == 1)
            let stored = try await rows(client, sink.table)
            #expect(stored.count == 101)
            #expect(stored.sum == (1...101).reduce(0) { $0 + Int64($1 * $1) })
        }
    }

    @Test func asAStageOfAPipeline() async throws {
        try await TestDatabase.withClient { client in
            let sink = try await makeSink(client)
            let passed = try await (Pipeline(1...1_000)
                | op.map { (n: Int) in Square(n: Int64(n % 600), square: Int64((n % 600) * (n % 600))) }
                | op.batch(64)
                | sink.flow
                | op.map { (rows: [Square]) in rows.count })
                .reduce(0, +)
            #expect(passed == 1_000)   // every batch passes on, duplicates included
            #expect(try await rows(client, sink.table).count == 600)
        }
    }

    @Test func aBinderAppendingTheWrongNumberOfValuesIsNamed() async throws {
        try await TestDatabase.withClient { client in
            let table = TestDatabase.uniqueTable("bad")
            try await client.query("CREATE TABLE \(unescaped: table) (n BIGINT PRIMARY KEY, square BIGINT)")
            let sink = try PostgresIdempotentInsert<Square>(client: client, table: table, columns: ["n", "square"],
                                                            conflictColumns: ["n"]) { row, binds in binds.append(row.n) }
            let error = await #expect(throws: PostgresQueueError.self) { try await sink.insert([Square(n: 1, square: 1)]) }
            #expect(error?.description == "bind must append 2 values (one per column of [\"n\", \"square\"]), appended 1")
        }
    }
}

@Suite("Idempotent insert configuration")
struct IdempotentInsertConfigurationTests {
    // A client that is never run: the configuration is checked before anything is sent.
    static let client = PostgresClient(configuration: TestDatabase.configuration, backgroundLogger: TestDatabase.quietLogger)

    @Test(arguments: [
        ("res ults", ["n"], ["n"], 10, "table must be a plain SQL identifier"),
        ("results", [], ["n"], 10, "columns must not be empty"),
        ("results", ["n"], [], 10, "conflictColumns must not be empty"),
        ("results", ["n;"], ["n"], 10, "columns must be a plain SQL identifier"),
        ("results", ["a.n"], ["n"], 10, "columns must be plain SQL identifiers, got \"a.n\""),
        ("results", ["a", "b"], ["a"], 40_000, "rowsPerStatement must be in 1...32767 for 2 columns, got 40000"),
        ("results", ["a"], ["a"], 0, "rowsPerStatement must be in 1...65535 for 1 columns, got 0"),
    ])
    func invalidValuesAreNamed(table: String, columns: [String], conflict: [String], rows: Int, message: String) {
        let error = #expect(throws: PostgresQueueError.self) {
            _ = try PostgresIdempotentInsert<Int64>(client: Self.client, table: table, columns: columns,
                                                    conflictColumns: conflict, rowsPerStatement: rows) { _, _ in }
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    }
}
