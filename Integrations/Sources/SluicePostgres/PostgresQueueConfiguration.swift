// The queue's configuration and its validation: every bad value is reported with the parameter's name
// and the value given.

/// An error of the PostgreSQL integration: a bad configuration value (named, with the value given) or
/// a row the queue could not read.
///
/// ```swift
/// do { _ = try PostgresQueueConfiguration(table: "jobs; drop table x").validated() }
/// catch let error as PostgresQueueError { print(error) }   // table must be a plain SQL identifier …
/// ```
public struct PostgresQueueError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, naming the parameter and the value.
    public var description: String

    /// An error with this message.
    ///
    /// ```swift
    /// throw PostgresQueueError("batch must be > 0, got 0")
    /// ```
    public init(_ description: String) {
        self.description = description
    }
}

/// Where a ``PostgresQueue`` keeps its jobs, and how it retries them.
///
/// ```swift
/// let configuration = PostgresQueueConfiguration(table: "mail_jobs", maxAttempts: 3, backoff: .seconds(5))
/// ```
public struct PostgresQueueConfiguration: Sendable, Hashable {
    /// The jobs table (created by ``PostgresQueue/createSchema()``): a plain SQL identifier,
    /// optionally schema-qualified (`letters, digits, _`; not starting with a digit; up to 63 each).
    public var table: String
    /// A job that failed this many times is dead-lettered (`status = 'dead'`), keeping its last
    /// failure text; at least 1.
    public var maxAttempts: Int
    /// The delay before a failed job can be claimed again, doubled for each earlier failure
    /// (`backoff × 2^(attempts−1)`), capped at ``maxBackoff``; zero or more.
    public var backoff: Duration
    /// The longest delay between two attempts; at least ``backoff``.
    public var maxBackoff: Duration
    /// Jobs per `INSERT` statement when enqueueing; 1 to 100,000.
    public var enqueueChunk: Int

    /// A configuration; check it with ``validated()`` (``PostgresQueue`` does).
    ///
    /// ```swift
    /// let configuration = PostgresQueueConfiguration(table: "jobs", maxAttempts: 5)
    /// ```
    public init(
        table: String = "sluice_jobs",
        maxAttempts: Int = 5,
        backoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(300),
        enqueueChunk: Int = 1_000
    ) {
        self.table = table
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.enqueueChunk = enqueueChunk
    }

    /// This configuration if every value is valid.
    ///
    /// ```swift
    /// let checked = try PostgresQueueConfiguration(maxAttempts: 3).validated()
    /// ```
    ///
    /// - Throws: ``PostgresQueueError`` naming the first invalid parameter and its value.
    public func validated() throws -> Self {
        try SQLIdentifier.check(table, parameter: "table")
        guard maxAttempts >= 1 else { throw PostgresQueueError("maxAttempts must be >= 1, got \(maxAttempts)") }
        guard backoff >= .zero else { throw PostgresQueueError("backoff must be >= 0, got \(backoff)") }
        guard maxBackoff >= backoff else {
            throw PostgresQueueError("maxBackoff must be >= backoff (\(backoff)), got \(maxBackoff)")
        }
        guard (1...100_000).contains(enqueueChunk) else {
            throw PostgresQueueError("enqueueChunk must be in 1...100000, got \(enqueueChunk)")
        }
        return self
    }
}

/// Checks names that are written into SQL text (tables, columns): they cannot be bound as parameters,
/// so only plain identifiers are accepted.
enum SQLIdentifier {
    /// Throws unless `name` is `ident` or `schema.ident`, each `[A-Za-z_][A-Za-z0-9_]{0,62}`.
    static func check(_ name: String, parameter: String) throws {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let valid = (1...2).contains(parts.count) && parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, part.unicodeScalars.count <= 63 else { return false }
            let isLetter = { (c: Unicode.Scalar) in c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
            return isLetter(first) && part.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
        }
        guard valid else {
            throw PostgresQueueError(
                "\(parameter) must be a plain SQL identifier (letters, digits, _; optionally schema.name), got \"\(name)\"")
        }
    }

    /// `name` with `.` turned into `_`, for index names derived from a table name.
    static func flattened(_ name: String) -> String {
        String(name.map { $0 == "." ? "_" : $0 })
    }
}

extension Duration {
    /// This duration in seconds, as SQL's `make_interval(secs => …)` takes it.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
