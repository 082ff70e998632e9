// A batched, idempotent insert: many rows per statement, `ON CONFLICT (key) DO NOTHING`, so a batch
// written twice (an at-least-once redelivery) leaves one row per key.
import Logging
import PostgresNIO
import Sluice

/// Inserts batches of rows into a table with `INSERT … ON CONFLICT (key) DO NOTHING`: writing the same
/// rows again (a redelivered job) changes nothing, so a pipeline over an at-least-once queue ends with
/// each result exactly once.
///
/// ```swift
/// struct Result: Sendable { var jobID: Int64; var value: String }
/// let sink = try PostgresIdempotentInsert<Result>(
///     client: client, table: "results", columns: ["job_id", "value"], conflictColumns: ["job_id"]
/// ) { row, binds in
///     binds.append(row.jobID)
///     binds.append(row.value)
/// }
/// let inserted = try await sink.insert(results)           // directly, or as a stage:
/// let flow = op.batch(200, within: .milliseconds(20)) | sink.flow
/// ```
public struct PostgresIdempotentInsert<Row: Sendable>: Sendable {
    /// Appends one row's values to the statement's bindings, one per column, in column order.
    ///
    /// ```swift
    /// let bind: PostgresIdempotentInsert<Square>.Bind = { row, binds in
    ///     binds.append(row.n)
    ///     binds.append(row.square)
    /// }
    /// ```
    public typealias Bind = @Sendable (Row, inout PostgresBindings) throws -> Void

    /// The client every statement goes through.
    public let client: PostgresClient
    /// The target table.
    public let table: String
    /// The columns written, in the order `bind` appends their values.
    public let columns: [String]
    /// The unique key whose conflicts are skipped.
    public let conflictColumns: [String]
    /// Rows per statement (at most 65,535 values in all).
    public let rowsPerStatement: Int
    let bind: Bind
    let logger: Logger

    /// A sink for `table`.
    ///
    /// ```swift
    /// let sink = try PostgresIdempotentInsert<(Int64, Int64)>(
    ///     client: client, table: "squares", columns: ["n", "square"], conflictColumns: ["n"]
    /// ) { row, binds in binds.append(row.0); binds.append(row.1) }
    /// ```
    ///
    /// - Parameters:
    ///   - client: The postgres-nio client (running).
    ///   - table: The table (it must exist, with a unique index on `conflictColumns`).
    ///   - columns: The columns written; plain identifiers, at least one.
    ///   - conflictColumns: The unique key; plain identifiers, at least one.
    ///   - rowsPerStatement: Rows per `INSERT`; between 1 and `65535 / columns.count`.
    ///   - logger: Where postgres-nio logs the statements.
    ///   - bind: Appends one row's values, exactly `columns.count` of them.
    /// - Throws: ``PostgresQueueError`` naming the invalid parameter and its value.
    public init(
        client: PostgresClient,
        table: String,
        columns: [String],
        conflictColumns: [String] = ["id"],
        rowsPerStatement: Int = 1_000,
        logger: Logger = Logger(label: "sluice.postgres.insert"),
        bind: @escaping Bind
    ) throws {
        try SQLIdentifier.check(table, parameter: "table")
        guard !columns.isEmpty else { throw PostgresQueueError("columns must not be empty, got []") }
        guard !conflictColumns.isEmpty else { throw PostgresQueueError("conflictColumns must not be empty, got []") }
        for column in columns + conflictColumns {
            guard !column.contains(".") else {
                throw PostgresQueueError("columns must be plain SQL identifiers, got \"\(column)\"")
            }
            try SQLIdentifier.check(column, parameter: "columns")
        }
        let limit = Int(UInt16.max) / columns.count
        guard (1...limit).contains(rowsPerStatement) else {
            throw PostgresQueueError("rowsPerStatement must be in 1...\(limit) for \(columns.count) columns, got \(rowsPerStatement)")
        }
        self.client = client
        self.table = table
        self.columns = columns
        self.conflictColumns = conflictColumns
        self.rowsPerStatement = rowsPerStatement
        self.bind = bind
        self.logger = logger
    }

    /// Inserts `rows`, `rowsPerStatement` per statement, skipping rows whose key is already there.
    ///
    /// ```swift
    /// let inserted = try await sink.insert(batch)   // batch.count - inserted were already there
    /// ```
    ///
    /// - Returns: How many rows were new.
    /// - Throws: ``PostgresQueueError`` if `bind` appended the wrong number of values; the server's
    ///   error otherwise.
    @discardableResult
    public func insert(_ rows: [Row]) async throws -> Int {
        var inserted = 0
        var start = 0
        while start < rows.count {
            let end = min(start + rowsPerStatement, rows.count)
            inserted += try await insertChunk(rows[start..<end])
            start = end
        }
        return inserted
    }

    /// The sink as a stage: inserts each batch, then passes it on (so a terminal — or a later stage —
    /// sees only rows that are stored).
    ///
    /// ```swift
    /// try await (queue.pipeline(batch: 100, lease: .seconds(30))
    ///     | op.map(process).workers(4)
    ///     | op.batch(200, within: .milliseconds(20))
    ///     | sink.flow).drain()
    /// ```
    public var flow: Flow<[Row], [Row]> {
        let sink = self
        return op.map { (rows: [Row]) async throws -> [Row] in
            try await sink.insert(rows)
            return rows
        }.named("insert \(table)")
    }

    private func insertChunk(_ rows: ArraySlice<Row>) async throws -> Int {
        var binds = PostgresBindings(capacity: rows.count * columns.count)
        var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        var parameter = 0
        for (index, row) in rows.enumerated() {
            let before = binds.count
            try bind(row, &binds)
            guard binds.count - before == columns.count else {
                throw PostgresQueueError(
                    "bind must append \(columns.count) values (one per column of \(columns)), appended \(binds.count - before)")
            }
            if index > 0 { sql += ", " }
            sql += "(" + (1...columns.count).map { _ in parameter += 1; return "$\(parameter)" }.joined(separator: ", ") + ")"
        }
        sql += " ON CONFLICT (\(conflictColumns.joined(separator: ", "))) DO NOTHING RETURNING 1"
        let result = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        var inserted = 0
        for try await _ in result { inserted += 1 }
        return inserted
    }
}
