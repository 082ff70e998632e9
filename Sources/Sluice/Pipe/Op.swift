// The `op` namespace: the pipe-style front end. Each function builds a one-stage `Flow`.
import SluiceExecutor

/// Stage constructors for the pipe style. Each returns a one-stage `Flow`, composed with `|`.
///
/// ```swift
/// let found = try await (Pipeline(urls)
///     | op.map(fetch).workers(8)
///     | op.filter(isValid)
///     | op.map(parse)).collect()
/// ```
///
/// Every constructor takes a synchronous or an asynchronous closure (two overloads each; three
/// for `flatMap`). Synchronous stages without options may be fused into one task.
public enum op {
    /// One output per input.
    ///
    /// ```swift
    /// op.map { (x: Int) in x * 2 }
    /// op.map(\Page.url)
    /// ```
    @inlinable
    public static func map<A, B>(_ transform: @escaping @Sendable (A) throws -> B) -> Flow<A, B> {
        mapFlow(transform, kernel: Kernels.map(transform))
    }

    /// One output per input, computed asynchronously.
    ///
    /// ```swift
    /// op.map { (url: URL) in try await fetch(url) }.workers(8)
    /// ```
    public static func map<A, B>(_ transform: @escaping @Sendable (A) async throws -> B) -> Flow<A, B> {
        Flow(.map(Transform.async(transform)))
    }

    /// Keeps the items for which `isIncluded` returns true.
    ///
    /// ```swift
    /// op.filter { (x: Int) in x.isMultiple(of: 3) }
    /// ```
    @inlinable
    public static func filter<A>(_ isIncluded: @escaping @Sendable (A) throws -> Bool) -> Flow<A, A> {
        filterFlow(isIncluded, kernel: Kernels.filter(isIncluded))
    }

    /// Keeps the items for which the asynchronous `isIncluded` returns true.
    ///
    /// ```swift
    /// op.filter { (url: URL) in await robots.allows(url) }
    /// ```
    public static func filter<A>(_ isIncluded: @escaping @Sendable (A) async throws -> Bool) -> Flow<A, A> {
        Flow(.filter(Transform.async(isIncluded)))
    }

    /// One output per input, or none when `transform` returns nil.
    ///
    /// ```swift
    /// op.compactMap { (s: String) in Int(s) }
    /// ```
    @inlinable
    public static func compactMap<A, B>(_ transform: @escaping @Sendable (A) throws -> B?) -> Flow<A, B> {
        compactMapFlow(transform, kernel: Kernels.compactMap(transform))
    }

    /// One output per input, or none when the asynchronous `transform` returns nil.
    ///
    /// ```swift
    /// op.compactMap { (id: Int) in try await lookup(id) }
    /// ```
    public static func compactMap<A, B>(_ transform: @escaping @Sendable (A) async throws -> B?) -> Flow<A, B> {
        Flow(.compactMap(Transform.async(transform)))
    }

    /// 0…N outputs per input; the sequence is streamed item by item.
    ///
    /// ```swift
    /// op.flatMap { (line: String) in line.split(separator: " ") }
    /// ```
    public static func flatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) throws -> S) -> Flow<A, S.Element> {
        Flow(.flatMap(Transform.sync(transform)))
    }

    /// 0…N outputs per input from an asynchronously computed sequence.
    ///
    /// ```swift
    /// op.flatMap { (page: Page) in try await page.links() }
    /// ```
    public static func flatMap<A, S: Sequence & SendableMetatype>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, S.Element> {
        Flow(.flatMap(Transform.async(transform)))
    }

    /// 0…N outputs per input from an `AsyncSequence`, streamed as it produces them.
    ///
    /// ```swift
    /// op.flatMap { (file: URL) in file.lines }
    /// ```
    public static func flatMap<A, S: AsyncSequence & Sendable>(_ transform: @escaping @Sendable (A) async throws -> S) -> Flow<A, S.Element> {
        Flow(.flatMap(async: transform))
    }

    /// A side effect per item; the item passes on unchanged.
    ///
    /// ```swift
    /// op.forEach { (x: Int) in print(x) }
    /// ```
    @inlinable
    public static func forEach<A>(_ action: @escaping @Sendable (A) throws -> Void) -> Flow<A, A> {
        forEachFlow(action, kernel: Kernels.forEach(action))
    }

    /// An asynchronous side effect per item; the item passes on unchanged.
    ///
    /// ```swift
    /// op.forEach { (row: Row) in try await log.write(row) }
    /// ```
    public static func forEach<A>(_ action: @escaping @Sendable (A) async throws -> Void) -> Flow<A, A> {
        Flow(.forEach(Transform.async(action)))
    }

    /// Groups consecutive items into arrays of `size` (the last may be shorter; never empty).
    ///
    /// ```swift
    /// Pipeline(1...5) | op.batch(2)     // [1, 2], [3, 4], [5]
    /// ```
    public static func batch<A>(_ size: Int) -> Flow<A, [A]> {
        Flow(.batch(size, of: A.self))
    }
}
