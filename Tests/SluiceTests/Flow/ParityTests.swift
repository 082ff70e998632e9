// Every `op` constructor beside its builder component: for each pair, the two spellings must build
// the same graph (also after modifiers, and inside a builder), plan the same way and give the same
// output. The table must list every `op` constructor and every component initializer in the
// sources, so adding a spelling without its twin (or without a row) fails here.
import Foundation
import Sluice
import SluiceTestSupport
import Testing

private typealias C = ParityClosures

@Suite struct ParityTests {
    // MARK: The table

    /// One row per `op` constructor (and per closure form), paired with the component initializer
    /// that must build the same stage.
    static let rows: [ParityRow] = {
        let ints = [1, 2, 3, 4, 5]
        let rails: [Result<Int, StageFailure>] = [.success(1), .failure(C.upstreamFailure), .success(3), .success(4)]
        return [
            //     op               component      form                input  op spelling                                             component spelling
            .init("map",           "Map",         "sync",             ints,  op.map(C.double),                                      Map(C.double)),
            .init("map",           "Map",         "async",            ints,  op.map(C.doubleAsync),                                 Map(C.doubleAsync)),
            .init("map",           "Map",         "resource",         ints,  op.map(using: C.makeOffset, teardown: C.dropOffset, C.addOffset),
                                                                             Map(using: C.makeOffset, teardown: C.dropOffset, C.addOffset)),
            .init("filter",        "Filter",      "sync",             ints,  op.filter(C.isOdd),                                    Filter(C.isOdd)),
            .init("filter",        "Filter",      "async",            ints,  op.filter(C.isOddAsync),                               Filter(C.isOddAsync)),
            .init("compactMap",    "CompactMap",  "sync",             ints,  op.compactMap(C.halfIfEven),                           CompactMap(C.halfIfEven)),
            .init("compactMap",    "CompactMap",  "async",            ints,  op.compactMap(C.halfIfEvenAsync),                      CompactMap(C.halfIfEvenAsync)),
            .init("flatMap",       "FlatMap",     "sync sequence",    ints,  op.flatMap(C.upTo),                                    FlatMap(C.upTo)),
            .init("flatMap",       "FlatMap",     "async sequence",   ints,  op.flatMap(C.upToAsync),                               FlatMap(C.upToAsync)),
            .init("flatMap",       "FlatMap",     "AsyncSequence",    ints,  op.flatMap(C.upToStream),                              FlatMap(C.upToStream)),
            .init("forEach",       "ForEach",     "sync",             ints,  op.forEach(C.touch),                                   ForEach(C.touch)),
            .init("forEach",       "ForEach",     "async",            ints,  op.forEach(C.touchAsync),                              ForEach(C.touchAsync)),
            .init("batch",         "Batch",       "size",             ints,  op.batch(2),                                           Batch<Int>(2), sequential: true),
            .init("batch",         "Batch",       "size or time",     ints,  op.batch(2, within: .seconds(3_600), clock: C.frozen), Batch<Int>(2, within: .seconds(3_600), clock: C.frozen), sequential: true),
            .init("batch",         "Batch",       "weight",           ints,  op.batch(maxWeight: 4, weight: C.itself),              Batch(maxWeight: 4, weight: C.itself), sequential: true),
            .init("debounce",      "Debounce",    "interval",         ints,  op.debounce(for: .seconds(3_600), clock: C.frozen),    Debounce<Int>(for: .seconds(3_600), clock: C.frozen), sequential: true),
            .init("scan",          "Scan",        "sync",             ints,  op.scan(0, C.sum),                                     Scan(0, C.sum), sequential: true),
            .init("prefix",        "Prefix",      "count",            ints,  op.prefix(3),                                          Prefix<Int>(3), sequential: true),
            .init("prefix",        "Prefix",      "while",            ints,  op.prefix(while: C.below4),                            Prefix(while: C.below4), sequential: true),
            .init("dropFirst",     "DropFirst",   "count",            ints,  op.dropFirst(2),                                       DropFirst<Int>(2), sequential: true),
            .init("drop",          "DropWhile",   "while",            ints,  op.drop(while: C.below3),                              DropWhile(C.below3), sequential: true),
            .init("distinct",      "Distinct",    "self",             ints,  op.distinct(window: 2),                                Distinct<Int>(window: 2), sequential: true),
            .init("distinct",      "Distinct",    "by key",           ints,  op.distinct(by: C.isOdd),                              Distinct(by: C.isOdd), sequential: true),
            .init("tryMap",        "TryMap",      "sync",             ints,  op.tryMap(C.tenfoldUnless3),                           TryMap(C.tenfoldUnless3)),
            .init("tryMap",        "TryMap",      "async",            ints,  op.tryMap(C.tenfoldUnless3Async),                      TryMap(C.tenfoldUnless3Async)),
            .init("tryFlatMap",    "TryFlatMap",  "sync sequence",    ints,  op.tryFlatMap(C.upToUnless3),                          TryFlatMap(C.upToUnless3)),
            .init("tryFlatMap",    "TryFlatMap",  "async sequence",   ints,  op.tryFlatMap(C.upToUnless3Async),                     TryFlatMap(C.upToUnless3Async)),
            .init("tryFlatMap",    "TryFlatMap",  "AsyncSequence",    ints,  op.tryFlatMap(C.upToStreamUnless3),                    TryFlatMap(C.upToStreamUnless3)),
            .init("tryFilter",     "TryFilter",   "sync",             ints,  op.tryFilter(C.isOddUnless3),                          TryFilter(C.isOddUnless3)),
            .init("tryFilter",     "TryFilter",   "async",            ints,  op.tryFilter(C.isOddUnless3Async),                     TryFilter(C.isOddUnless3Async)),
            .init("tryForEach",    "TryForEach",  "sync",             ints,  op.tryForEach(C.touchUnless3),                         TryForEach(C.touchUnless3)),
            .init("tryForEach",    "TryForEach",  "async",            ints,  op.tryForEach(C.touchUnless3Async),                    TryForEach(C.touchUnless3Async)),
            .init("thenMap",       "ThenMap",     "sync",             rails, op.thenMap(C.tenfoldUnless3),                          ThenMap(C.tenfoldUnless3)),
            .init("thenMap",       "ThenMap",     "async",            rails, op.thenMap(C.tenfoldUnless3Async),                     ThenMap(C.tenfoldUnless3Async)),
            .init("thenFlatMap",   "ThenFlatMap", "sync sequence",    rails, op.thenFlatMap(C.upToUnless3),                         ThenFlatMap(C.upToUnless3)),
            .init("thenFlatMap",   "ThenFlatMap", "async sequence",   rails, op.thenFlatMap(C.upToUnless3Async),                    ThenFlatMap(C.upToUnless3Async)),
            .init("thenFlatMap",   "ThenFlatMap", "AsyncSequence",    rails, op.thenFlatMap(C.upToStreamUnless3),                   ThenFlatMap(C.upToStreamUnless3)),
            .init("thenFilter",    "ThenFilter",  "sync",             rails, op.thenFilter(C.isOddUnless3),                         ThenFilter(C.isOddUnless3)),
            .init("thenFilter",    "ThenFilter",  "async",            rails, op.thenFilter(C.isOddUnless3Async),                    ThenFilter(C.isOddUnless3Async)),
            .init("thenForEach",   "ThenForEach", "sync",             rails, op.thenForEach(C.touchUnless3),                        ThenForEach(C.touchUnless3)),
            .init("thenForEach",   "ThenForEach", "async",            rails, op.thenForEach(C.touchUnless3Async),                   ThenForEach(C.touchUnless3Async)),
            .init("mapFailure",    "MapFailure",  "sync",             rails, op.mapFailure(C.relabel),                              MapFailure<Int>(C.relabel)),
            .init("mapFailure",    "MapFailure",  "async",            rails, op.mapFailure(C.relabelAsync),                         MapFailure<Int>(C.relabelAsync)),
            .init("recover",       "Recover",     "sync",             rails, op.recover(C.minusOne),                                Recover(C.minusOne)),
            .init("recover",       "Recover",     "async",            rails, op.recover(C.minusOneAsync),                           Recover(C.minusOneAsync)),
            .init("successes",     "Successes",   "none",             rails, op.successes(),                                        Successes<Int>()),
            .init("failures",      "Failures",    "none",             rails, op.failures(),                                         Failures<Int>()),
            // Graph shapes (the branches are flows; `expand` emits in completion order).
            .init("broadcast",     "Broadcast",   "flows",            ints,  op.broadcast(op.map(C.double), op.map(C.doubleAsync)),
                                                                             Broadcast(op.map(C.double), op.map(C.doubleAsync))),
            .init("broadcast",     "Broadcast",   "builder",          ints,  op.broadcast { op.map(C.double); op.filter(C.isOdd) },
                                                                             Broadcast { Map(C.double); Filter(C.isOdd) }),
            .init("route",         "Route",       "by key",           ints,  op.route(by: C.oddness, [true: op.map(C.double)], default: op.map(C.doubleAsync)),
                                                                             Route(by: C.oddness) { When(true) { Map(C.double) }; Otherwise { Map(C.doubleAsync) } }),
            .init("expand",        "Expand",      "sync",             ints,  op.expand(maxDepth: 2, C.tenfoldAndChildren),
                                                                             Expand(maxDepth: 2, C.tenfoldAndChildren), completionOrder: true),
            .init("expand",        "Expand",      "async",            ints,  op.expand(dedupe: .items, C.tenfoldAndChildrenAsync),
                                                                             Expand(dedupe: .items, C.tenfoldAndChildrenAsync), completionOrder: true),
        ]
    }()

    // MARK: Each pair builds the same stage and gives the same output

    @Test(arguments: ParityTests.rows) func bothSpellingsBuildTheSameGraph(_ row: ParityRow) {
        #expect(row.op.stages.count == 1)
        #expect(row.op.stages.first?.kind == row.opName, "the op constructor's stage kind names it")
        #expect(row.op.stages == row.component.stages)
        #expect(row.op.stages == row.built.stages, "the component inside a builder")
        #expect(row.modifiedOp.stages == row.modifiedComponent.stages)
        #expect(row.modifiedOp.stages.first?.name == "x")
        #expect(row.modifiedOp.stages.first?.workers == (row.isSequential ? 1 : 3))
        #expect(row.op.inFlightBound == row.component.inFlightBound, "both spellings plan the same way")
        #expect(row.modifiedOp.inFlightBound == row.modifiedComponent.inFlightBound)
    }

    @Test(arguments: ParityTests.rows) func bothSpellingsGiveTheSameOutput(_ row: ParityRow) async throws {
        let op = try await row.op.outputs()
        #expect(!op.isEmpty)
        #expect(op == (try await row.component.outputs()))
        #expect(op == (try await row.built.outputs()))
        let modified = try await row.modifiedOp.outputs()
        #expect(modified == (try await row.modifiedComponent.outputs()))
    }

    // MARK: The table is complete

    /// `public static func` declarations in every `extension op` of the Sluice sources, by name.
    @Test func everyOpConstructorHasARow() throws {
        let declared = try SluiceSources().declarations(#"^\s*public static func (\w+)"#, inBodiesOf: { $0 == "extension op {" })
        #expect(declared.count == Self.rows.count, "one row per op constructor")
        #expect(Self.counted(declared) == Self.counted(Self.rows.map(\.opName)))
    }

    /// `public init` declarations of the builder components (the `FlowComponent` structs and their
    /// extensions), by component.
    @Test func everyComponentInitializerHasARow() throws {
        let sources = try SluiceSources()
        let components = Set(try sources.declarations(#"^public struct (\w+)<[^>]*>: FlowComponent \{"#, inBodiesOf: nil))
        #expect(components == Set(Self.rows.map(\.componentName)), "every component has rows, every row a component")
        var declared: [String] = []
        for name in components.sorted() {
            let inits = try sources.declarations(#"^\s*public init\b"#, inBodiesOf: { header in
                header.hasPrefix("public struct \(name)<") || header == "extension \(name) {"
            })
            declared += inits.map { _ in name }
        }
        #expect(Self.counted(declared) == Self.counted(Self.rows.map(\.componentName)))
    }

    static func counted(_ names: [String]) -> [String: Int] {
        Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
    }
}

// MARK: - Rows

/// One `op` constructor and its builder component, built from the same closure, with everything
/// the checks need erased to non-generic values.
struct ParityRow: Sendable, CustomTestStringConvertible {
    let opName: String
    let componentName: String
    let form: String
    let isSequential: Bool
    let op: Spelling
    let component: Spelling
    let built: Spelling
    let modifiedOp: Spelling
    let modifiedComponent: Spelling

    var testDescription: String { "op.\(opName) / \(componentName) (\(form))" }

    /// A flow applied to the row's input: its stages, its plan's bound, and its outputs as text.
    struct Spelling: Sendable {
        let stages: [StageDescription]
        let inFlightBound: Int
        let outputs: @Sendable () async throws -> [String]

        init<I: Sendable, O: Sendable>(_ flow: Flow<I, O>, input: [I], sorted: Bool = false) {
            stages = flow.stages
            inFlightBound = (Pipeline(input) | flow).inFlightBound
            outputs = {
                let text = try await flow(input).collect().map { String(describing: $0) }
                return sorted ? text.sorted() : text
            }
        }
    }

    init<I: Sendable, O: Sendable, Component: FlowComponent<I, O>>(
        _ opName: String, _ componentName: String, _ form: String, _ input: [I],
        _ op: Flow<I, O>, _ component: Component, sequential: Bool = false, completionOrder: Bool = false
    ) {
        self.opName = opName
        self.componentName = componentName
        self.form = form
        self.isSequential = sequential
        // A stage that emits in completion order is compared as a multiset.
        let sorted = completionOrder
        self.op = Spelling(op, input: input, sorted: sorted)
        self.component = Spelling(component.flow, input: input, sorted: sorted)
        self.built = Spelling(Flow<I, O> { component }, input: input, sorted: sorted)
        // The modifiers every stage takes; a stage that groups consecutive items keeps one worker.
        if sequential {
            modifiedOp = Spelling(op.buffer(8).named("x"), input: input, sorted: sorted)
            modifiedComponent = Spelling(component.buffer(8).named("x"), input: input, sorted: sorted)
        } else {
            modifiedOp = Spelling(op.workers(3).buffer(8).named("x"), input: input, sorted: sorted)
            modifiedComponent = Spelling(component.workers(3).buffer(8).named("x"), input: input, sorted: sorted)
        }
    }
}

// MARK: - The closures the rows share (typed, so each row picks one overload)

struct ParityError: Error, CustomStringConvertible {
    var description: String { "parity error" }
}

/// A resource of `map(using:)`: each worker gets its own.
final class ParityOffset {
    let amount = 100
}

enum ParityClosures {
    static let upstreamFailure = StageFailure(stage: "upstream", item: 2, underlying: ParityError())

    static let double: @Sendable (Int) throws -> Int = { $0 * 2 }
    static let doubleAsync: @Sendable (Int) async throws -> Int = { $0 * 2 }
    static let makeOffset: @Sendable () async throws -> ParityOffset = { ParityOffset() }
    static let dropOffset: @Sendable (ParityOffset) async -> Void = { _ in }
    static let addOffset: @Sendable (ParityOffset, Int) async throws -> Int = { offset, x in x + offset.amount }
    static let isOdd: @Sendable (Int) throws -> Bool = { !$0.isMultiple(of: 2) }
    static let isOddAsync: @Sendable (Int) async throws -> Bool = { !$0.isMultiple(of: 2) }
    static let halfIfEven: @Sendable (Int) throws -> Int? = { $0.isMultiple(of: 2) ? $0 / 2 : nil }
    static let halfIfEvenAsync: @Sendable (Int) async throws -> Int? = { $0.isMultiple(of: 2) ? $0 / 2 : nil }
    static let upTo: @Sendable (Int) throws -> [Int] = { Array(0..<$0) }
    static let upToAsync: @Sendable (Int) async throws -> [Int] = { Array(0..<$0) }
    static let upToStream: @Sendable (Int) async throws -> AsyncStream<Int> = { n in stream(upTo: n) }
    static let touch: @Sendable (Int) throws -> Void = { _ in }
    static let sum: @Sendable (Int, Int) throws -> Int = { $0 + $1 }
    static let below4: @Sendable (Int) throws -> Bool = { $0 < 4 }
    static let below3: @Sendable (Int) throws -> Bool = { $0 < 3 }
    static let itself: @Sendable (Int) throws -> Int = { $0 }
    /// Timed stages wait on this clock, which never moves: only size, weight and the end count.
    static let frozen = TestClock()
    static let touchAsync: @Sendable (Int) async throws -> Void = { _ in }
    static let oddness: @Sendable (Int) -> Bool = { !$0.isMultiple(of: 2) }
    static let tenfoldAndChildren: @Sendable (Int) throws -> (Int, [Int]) = { ($0 * 10, $0 < 20 ? [$0 * 2, $0 * 2 + 1] : []) }
    static let tenfoldAndChildrenAsync: @Sendable (Int) async throws -> (Int, [Int]) = { try tenfoldAndChildren($0) }

    // Railway closures: each throws for the item 3, so every row also carries a failure.
    static let tenfoldUnless3: @Sendable (Int) throws -> Int = { x in
        if x == 3 { throw ParityError() }
        return x * 10
    }
    static let tenfoldUnless3Async: @Sendable (Int) async throws -> Int = { x in try tenfoldUnless3(x) }
    static let upToUnless3: @Sendable (Int) throws -> [Int] = { x in
        if x == 3 { throw ParityError() }
        return Array(0..<x)
    }
    static let upToUnless3Async: @Sendable (Int) async throws -> [Int] = { x in try upToUnless3(x) }
    static let upToStreamUnless3: @Sendable (Int) async throws -> AsyncStream<Int> = { x in
        if x == 3 { throw ParityError() }
        return stream(upTo: x)
    }
    static let isOddUnless3: @Sendable (Int) throws -> Bool = { x in
        if x == 3 { throw ParityError() }
        return !x.isMultiple(of: 2)
    }
    static let isOddUnless3Async: @Sendable (Int) async throws -> Bool = { x in try isOddUnless3(x) }
    static let touchUnless3: @Sendable (Int) throws -> Void = { x in
        if x == 3 { throw ParityError() }
    }
    static let touchUnless3Async: @Sendable (Int) async throws -> Void = { x in try touchUnless3(x) }
    static let relabel: @Sendable (StageFailure) throws -> StageFailure = { failure in
        var failure = failure
        failure.stage = "relabelled " + failure.stage
        return failure
    }
    static let relabelAsync: @Sendable (StageFailure) async throws -> StageFailure = { try relabel($0) }
    static let minusOne: @Sendable (StageFailure) throws -> Int = { _ in -1 }
    static let minusOneAsync: @Sendable (StageFailure) async throws -> Int = { _ in -1 }

    static func stream(upTo n: Int) -> AsyncStream<Int> {
        AsyncStream { continuation in
            for i in 0..<n { continuation.yield(i) }
            continuation.finish()
        }
    }
}

// MARK: - Reading the sources

/// The Sluice module's source files, read from this checkout.
struct SluiceSources {
    /// Every file's lines.
    let files: [[String]]

    init(filePath: String = #filePath) throws {
        let root = URL(fileURLWithPath: filePath)   // Tests/SluiceTests/Flow/ParityTests.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sluice = root.appendingPathComponent("Sources/Sluice")
        guard let enumerator = FileManager.default.enumerator(at: sluice, includingPropertiesForKeys: nil) else {
            throw CocoaError(.fileNoSuchFile)
        }
        var files: [[String]] = []
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            files.append(try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n"))
        }
        #expect(files.count > 10, "found the sources at \(sluice.path)")
        self.files = files
    }

    /// The first capture group of `pattern` on every matching line, either anywhere (`inBodiesOf`
    /// nil) or only inside the bodies of top-level declarations whose header line (trimmed of
    /// trailing spaces) `inBodiesOf` accepts.
    func declarations(_ pattern: String, inBodiesOf header: ((String) -> Bool)?) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        func match(_ line: String) -> String? {
            let range = NSRange(line.startIndex..., in: line)
            guard let m = regex.firstMatch(in: line, range: range) else { return nil }
            if m.numberOfRanges > 1, let r = Range(m.range(at: 1), in: line) { return String(line[r]) }
            return String(line)
        }
        var found: [String] = []
        for lines in files {
            var depth = 0
            var inside = false
            for line in lines {
                let code = line.trimmingCharacters(in: .whitespaces).hasPrefix("//") ? "" : line
                if depth == 0 {
                    inside = header?(line.trimmingCharacters(in: .whitespaces)) ?? true
                    if header == nil, let m = match(line) { found.append(m) }
                } else if inside, header != nil, let m = match(line) {
                    found.append(m)
                }
                depth += code.filter { $0 == "{" }.count - code.filter { $0 == "}" }.count
            }
        }
        return found
    }
}
