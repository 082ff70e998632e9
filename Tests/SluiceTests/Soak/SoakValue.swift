// The soak's items and the pure operations its stages apply to them (shared by the pipeline and
// the Array oracle, so both compute exactly the same thing).
//
// Every operation is injective on the items that can meet at one stage (the source gives distinct
// integers; a flatMap child of `x` is `4x + j`), so the items reaching a stage are all different.
// That lets a stage count attempts per item (transient faults) and makes failures name one item.
import Sluice

enum Soak {}

extension Soak {
    /// What flows through a soak pipeline.
    indirect enum Value: Hashable, Sendable, CustomStringConvertible {
        case int(Int)
        case list([Value])
        /// A railway failure turned back into a plain value (`recover`, `failures()`).
        case failed(stage: String, item: Value?, attempts: Int)

        var description: String {
            switch self {
            case .int(let x): "\(x)"
            case .list(let xs): "\(xs)"
            case .failed(let stage, let item, let attempts):
                "failed(\(stage), \(item.map(\.description) ?? "nil"), \(attempts))"
            }
        }

        /// The values that survive regrouping by a batch: integers and failures, flattened.
        var atoms: [Value] {
            if case .list(let xs) = self { return xs.flatMap(\.atoms) }
            return [self]
        }

        /// The value with every stage name reduced to its last path component (`g1/g2/s3` →
        /// `s3`): outputs are compared this way, and stage paths are checked on their own.
        var normalized: Value {
            switch self {
            case .int: self
            case .list(let xs): .list(xs.map(\.normalized))
            case .failed(let stage, let item, let attempts): .failed(stage: Soak.leafName(stage), item: item?.normalized, attempts: attempts)
            }
        }

        /// Every stage name inside the value.
        var stageNames: [String] {
            switch self {
            case .int: []
            case .list(let xs): xs.flatMap(\.stageNames)
            case .failed(let stage, let item, _): [stage] + (item?.stageNames ?? [])
            }
        }

        var isList: Bool {
            if case .list = self { return true }
            return false
        }
    }

    /// The last component of a qualified stage name.
    static func leafName(_ stage: String) -> String {
        stage.split(separator: "/").last.map(String.init) ?? stage
    }

    /// A 64-bit mix (SplitMix64's finaliser) for deterministic per-item decisions.
    static func mix(_ x: Int, _ k: Int) -> UInt64 {
        var z = UInt64(bitPattern: Int64(x)) &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `map`: 3x + k on every integer (injective); a recovered failure passes unchanged.
    static func bump(_ v: Value, _ k: Int) -> Value {
        switch v {
        case .int(let x): .int(x &* 3 &+ k % 3)
        case .list(let xs): .list(xs.map { bump($0, k) })
        case .failed: v
        }
    }

    /// `filter`: drops about a quarter of the integers; keeps every batch and failure.
    static func keep(_ v: Value, _ k: Int) -> Bool {
        if case .int(let x) = v { return mix(x, k) % 4 != 0 }
        return true
    }

    /// `compactMap`: drops about a fifth of the integers, bumps the rest.
    static func compact(_ v: Value, _ k: Int) -> Value? {
        if case .int(let x) = v, mix(x, k) % 5 == 0 { return nil }
        return bump(v, k)
    }

    /// `flatMap`: 0–3 children `4x + j` for an integer; a batch's own items; a failure itself.
    static func expand(_ v: Value, _ k: Int) -> [Value] {
        switch v {
        case .int(let x): (0..<Int(mix(x, k) % 4)).map { .int(x &* 4 &+ $0) }
        case .list(let xs): xs
        case .failed: [v]
        }
    }

    /// Whether an async body yields before working on `v` (so completion order varies).
    static func yields(_ v: Value, _ k: Int) -> Bool {
        switch v {
        case .int(let x): mix(x, k &+ 7) % 3 == 0
        case .list(let xs): xs.count % 2 == 0
        case .failed: false
        }
    }

    /// The error an injected fault throws.
    struct Fault: Error, Hashable, CustomStringConvertible {
        var stage: String
        var value: Value?
        var attempt: Int
        var description: String { "fault in \(stage) on \(value.map(\.description) ?? "source") (attempt \(attempt))" }
    }

    /// What a stage that turns its own cancellation into an error throws (issue 10, item 3).
    struct Translated: Error, CustomStringConvertible {
        var description: String { "cancellation translated by a stage body" }
    }

    /// What a throwing `forEach` terminal body throws: must be rethrown unchanged.
    struct ConsumerError: Error, Equatable, CustomStringConvertible {
        var index: Int
        var description: String { "consumer error at output \(index)" }
    }
}

// MARK: - zip and expand

extension Soak {
    /// A `zip` source's second input gives `partner(i)` for item `i` of the first: a pair is right
    /// when its second element is its first's partner.
    static func partner(_ v: Value) -> Value {
        if case .int(let x) = v { return .int(x &* 7 &+ 5) }
        return v
    }

    /// A zip pair as one item: its first element, or (paired wrongly) a value no oracle expects.
    static func unzip(_ pair: (Value, Value)) -> Value {
        pair.1 == partner(pair.0) ? pair.0 : .failed(stage: "zip paired \(pair.0) with \(pair.1)", item: nil, attempts: 0)
    }

    /// What an `expand` stage walks: a graph of `nodes` nodes (0–3 edges each, self-loops and
    /// cycles included, drawn from `k`). Every integer sits on node `x mod 16 mod nodes`; lists and
    /// failure values have no successors.
    ///
    /// - With dedupe (`walks == false`) an item's successors are the nodes' own values (the same
    ///   values from every path), so the walk needs the dedupe to end: the oracle is the set of
    ///   items reachable from the inputs.
    /// - Without dedupe (`walks == true`, always with a `maxDepth`) a successor is a new value per
    ///   path (a 64-bit hash of the path, its low 4 bits the node), so items never repeat and the
    ///   oracle is every walk up to `maxDepth` — a graph with cycles ends only by the depth limit.
    struct Graph: Hashable, Sendable, CustomStringConvertible {
        var nodes: Int
        var k: Int
        var walks: Bool

        static func node(of x: Int) -> Int { Int(UInt64(bitPattern: Int64(x)) & 15) }

        /// The edges of node `g`.
        func edges(_ g: Int) -> [Int] {
            (0..<Int(Soak.mix(g, k) % 4)).map { Int(Soak.mix(g &* 8 &+ $0, k &+ 1) % UInt64(nodes)) }
        }

        /// The value standing for node `g` (with dedupe).
        func value(ofNode g: Int) -> Int {
            Int(bitPattern: UInt(Soak.mix(g, k &+ 2)) & ~15) | g
        }

        func successors(_ v: Value) -> [Value] {
            guard case .int(let x) = v else { return [] }
            let targets = edges(Graph.node(of: x) % nodes)
            if !walks { return targets.map { .int(value(ofNode: $0)) } }
            return targets.enumerated().map { i, g in .int(Int(bitPattern: UInt(Soak.mix(x, k &+ 3 &+ i)) & ~15) | g) }
        }

        var description: String { "graph(\(nodes) nodes, k \(k)\(walks ? ", walks" : ""))" }
    }
}
