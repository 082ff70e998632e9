// How an acknowledged pipeline knows when a source item is complete: every item in flight carries
// the tokens of the source items it derives from; a token counts the live items carrying it, and
// the ledger records each token whose count reaches zero.
import Synchronization
import SluiceExecutor

/// One source item's completion count: how many items derived from it are still in the pipeline.
/// Starts at 1 (the item itself). Stages add one for each output that carries it and remove one
/// for the input they are done with; the terminal removes one for each item it is done with.
final class AckToken: Sendable {
    /// The item's position in delivery order (0, 1, 2, … in one run).
    let sequence: Int
    /// The `Delivery.id`, erased (the pipeline casts it back where `ID` is known).
    let id: any Sendable
    let ledger: AckLedger
    private let live = Atomic<Int>(1)

    init(sequence: Int, id: any Sendable, ledger: AckLedger) {
        self.sequence = sequence
        self.id = id
        self.ledger = ledger
    }

    func retain() {
        live.wrappingAdd(1, ordering: .relaxed)
    }

    /// Removes one live item; the last one completes the token: it is appended to `done`, for
    /// the ledger to record with the rest of the chunk (one lock per chunk, not per item).
    func release(into done: inout [AckToken]) {
        let before = live.wrappingSubtract(1, ordering: .acquiringAndReleasing).oldValue
        precondition(before > 0, "acknowledgement of item \(sequence) released more often than retained")
        if before == 1 { done.append(self) }
    }
}

/// The source items an item derives from: usually one; several after a batch (or a stage that
/// merges items); none for an item made from nothing.
struct Lineage: Sendable {
    private enum Tokens: Sendable {
        case none
        case one(AckToken)
        case many([AckToken])
    }
    private var tokens: Tokens

    static let empty = Lineage(tokens: .none)

    init(_ token: AckToken) { tokens = .one(token) }
    private init(tokens: Tokens) { self.tokens = tokens }

    var isEmpty: Bool { if case .none = tokens { true } else { false } }

    /// Adds `other`'s tokens (the references move with them).
    mutating func absorb(_ other: Lineage) {
        switch (tokens, other.tokens) {
        case (_, .none): return
        case (.none, _): tokens = other.tokens
        case (.one(let a), .one(let b)): tokens = .many([a, b])
        case (.one(let a), .many(let b)): tokens = .many([a] + b)
        case (.many(var a), .one(let b)):
            tokens = .none   // keep `a` uniquely referenced while it grows
            a.append(b)
            tokens = .many(a)
        case (.many(var a), .many(let b)):
            tokens = .none
            a.append(contentsOf: b)
            tokens = .many(a)
        }
    }

    func forEach(_ body: (AckToken) -> Void) {
        switch tokens {
        case .none: break
        case .one(let t): body(t)
        case .many(let all): for t in all { body(t) }
        }
    }

    /// The ledger of its tokens (all of one run), if it has any.
    var ledger: AckLedger? {
        switch tokens {
        case .none: nil
        case .one(let t): t.ledger
        case .many(let all): all.first?.ledger
        }
    }

    /// One more live item carries these tokens.
    func retain() { forEach { $0.retain() } }
    /// One item carrying these tokens left the pipeline; the tokens it completed go to `done`.
    func release(into done: inout [AckToken]) { forEach { $0.release(into: &done) } }

    /// One item carrying these tokens left the pipeline, alone: what it completed is recorded now.
    func releaseNow() {
        var done: [AckToken] = []
        release(into: &done)
        if let ledger = done.first?.ledger {
            ledger.complete(done)
            ledger.signal()
        }
    }
}

/// A value in an acknowledged pipeline: what the stages see, and the source items it derives from.
struct Tracked<Value: Sendable>: Sendable {
    var value: Value
    var lineage: Lineage
}

extension Tracked: CarriesFailure where Value: CarriesFailure {
    var carriedFailure: StageFailure? { value.carriedFailure }
}

extension Tracked {
    /// The terminal is done with this item: a railway failure value fails its source items,
    /// then it leaves the pipeline.
    func consumed(into done: inout [AckToken]) {
        if let failure = (value as? any CarriesFailure)?.carriedFailure {
            lineage.forEach { $0.ledger.noteFailure(failure, of: $0) }
        }
        lineage.release(into: &done)
    }
}

/// One run's completions: what the acknowledging task sends next, and how far delivery order is
/// complete.
final class AckLedger: Sendable {
    private struct State {
        var completed = FIFO<(id: any Sendable, outcome: AckOutcome)>()
        var failures: [Int: StageFailure] = [:]
        /// The first sequence number not yet known complete.
        var nextInOrder = 0
        /// Completed items past a gap in delivery order.
        var pastGap: [Int: any Sendable] = [:]
        /// The id of the item just before `nextInOrder`, when it advanced since the last take.
        var through: (any Sendable)?
        var ended = false
        var waiter: UnsafeContinuation<Void, Never>?
    }
    private let state = Lock(State())

    /// A railway failure reached the terminal for an item derived from `token`: its outcome is
    /// failed (the first failure counts).
    func noteFailure(_ failure: StageFailure, of token: AckToken) {
        state.withLock { s in
            if s.failures[token.sequence] == nil { s.failures[token.sequence] = failure }
        }
    }

    /// `token`'s item and everything derived from it have left the pipeline. The acknowledging
    /// task is not woken here but by `signal()`, which whoever completes items calls once it is
    /// done with its chunk: one wake-up per chunk, not per item.
    func complete(_ tokens: [AckToken]) {
        if tokens.isEmpty { return }
        state.withLock { s in
            for token in tokens { Self.record(token, in: &s) }
        }
    }

    private static func record(_ token: AckToken, in s: inout State) {
        let outcome: AckOutcome = s.failures.removeValue(forKey: token.sequence).map { .failed($0) } ?? .completed
        s.completed.append((token.id, outcome))
        if token.sequence == s.nextInOrder {
            var through: any Sendable = token.id
            s.nextInOrder += 1
            while let next = s.pastGap.removeValue(forKey: s.nextInOrder) {
                through = next
                s.nextInOrder += 1
            }
            s.through = through
        } else {
            s.pastGap[token.sequence] = token.id
        }
    }

    /// Wakes the acknowledging task if completions wait for it.
    func signal() {
        let waiter = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            guard s.waiter != nil, !s.completed.isEmpty || s.through != nil else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// No more completions will be acknowledged once the waiting task has taken what is there.
    func end() {
        let waiter = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            s.ended = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// The next completions (at most `limit`) and the new `completedThrough`; waits while there is
    /// nothing. `nil` once ended and everything was taken.
    func take(limit: Int) async -> (completed: [(id: any Sendable, outcome: AckOutcome)], through: (any Sendable)?)? {
        while true {
            let ready = state.withLock { s -> (completed: [(id: any Sendable, outcome: AckOutcome)], through: (any Sendable)?)?? in
                if s.completed.isEmpty && s.through == nil { return s.ended ? .some(nil) : nil }
                var taken: [(id: any Sendable, outcome: AckOutcome)] = []
                _ = s.completed.take(upTo: limit, into: &taken)
                // `through` goes out with the batch holding the completions up to it: only once
                // everything completed so far has been taken.
                var through: (any Sendable)?
                if s.completed.isEmpty {
                    through = s.through
                    s.through = nil
                }
                return .some((taken, through))
            }
            if let ready { return ready }
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if !s.completed.isEmpty || s.through != nil || s.ended { return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        }
    }
}
