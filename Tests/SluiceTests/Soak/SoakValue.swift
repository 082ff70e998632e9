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
