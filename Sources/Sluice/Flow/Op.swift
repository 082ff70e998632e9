// The `op` namespace of the pipe-style front end. Each stage file adds its constructors to it.

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
public enum op {}
