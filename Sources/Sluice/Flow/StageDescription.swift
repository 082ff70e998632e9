// What a flow says about itself: each stage's kind, name and options (used to compare graphs).
import SluiceExecutor

/// A stage as a flow describes it.
///
/// ```swift
/// let d = op.map { (x: Int) in x }.workers(4).named("double").stages[0]
/// d.kind      // "map"
/// d.name      // "double"
/// d.workers   // 4
///
/// op.batch(4, within: .seconds(2)).stages[0].description   // "batch(4, within: 2s)"
/// ```
public struct StageDescription: Hashable, Sendable, CustomStringConvertible {
    /// `map`, `filter`, `compactMap`, `flatMap`, `forEach`, `batch`, `group`, …
    public var kind: String
    /// The stage's name (its kind unless named).
    public var name: String
    /// Concurrent workers (1 unless set).
    public var workers: Int
    /// Output buffer, when set explicitly (`nil` = the default).
    public var buffer: BufferSize?
    /// `false` after `.unordered()`.
    public var ordered: Bool
    /// The reorder window in input items, when set with `.ordered(window:)` (`nil` = the default).
    public var window: Int?
    /// The output buffer's weight bound, when set with `.buffer(maxWeight:weight:)`.
    public var maxWeight: Int?
    /// The stage's own arguments, when they set it apart from other stages of its kind: `4` for
    /// `batch(4)`, `4, within: 2s` for `batch(4, within: .seconds(2))`, `for: 300ms` for a
    /// `debounce`, `64, whenFull: dropOldest` for a buffer that drops (`nil`: none described).
    ///
    /// ```swift
    /// op.batch(maxWeight: 1024) { (d: [UInt8]) in d.count }.stages[0].parameters   // "maxWeight: 1024"
    /// ```
    public var parameters: String?
    /// The stages of a fragment that acts as one stage.
    public var children: [StageDescription]

    package init(_ node: StageNode) {
        kind = node.kind.rawValue
        name = node.name
        workers = node.options.workers ?? 1
        buffer = node.options.buffer.map(BufferSize.init(capacity:))
        ordered = node.options.ordered
        window = node.options.window
        maxWeight = node.options.maxWeight
        parameters = node.parameters
        children = node.children.map(StageDescription.init)
    }

    /// `map`, `fetch: map(workers: 8, buffer: 32, unordered)`, `fetch: map(workers: 32, window: 1024)`,
    /// `batch(4, within: 2s)`, `group[map, filter]`.
    public var description: String {
        var options: [String] = parameters.map { [$0] } ?? []
        if workers != 1 { options.append("workers: \(workers)") }
        if let buffer { options.append("buffer: \(buffer)") }
        if !ordered { options.append("unordered") }
        if let window { options.append("window: \(window)") }
        if let maxWeight { options.append("maxWeight: \(maxWeight)") }
        var text = name == kind ? kind : "\(name): \(kind)"
        if !options.isEmpty { text += "(\(options.joined(separator: ", ")))" }
        if !children.isEmpty { text += "[\(children.map(\.description).joined(separator: ", "))]" }
        return text
    }
}
