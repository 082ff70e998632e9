// A first-in, first-out queue that reuses its storage: no allocation per item in steady state. The
// channel's items and the blocking pool's jobs both wait in one.

/// A FIFO queue backed by one array and a read index.
///
/// Taken items are not removed one by one: the read index moves past them, and the consumed prefix
/// is dropped in bulk — all of it when the queue empties (the array keeps its capacity, so a queue
/// drained by batches never reallocates), or by `take`/`popFirst` once it is at least 1024 items
/// and half the array. Until then the array still holds the taken items: a queue of class
/// references releases them late. The channel's items and the pool's `UnownedJob`s do not mind.
///
/// ```swift
/// var queue = FIFO<Int>()
/// queue.append(contentsOf: [1, 2, 3])
/// queue.popFirst()                         // 1
/// var out: [Int] = []
/// queue.take(upTo: 5, into: &out)          // 2; out == [2, 3]
/// ```
@usableFromInline
package struct FIFO<Element> {
    @usableFromInline var storage: [Element] = []
    @usableFromInline var head = 0

    @inlinable
    package init() {}

    /// A queue holding `storage`'s items, taking over the array (no copy).
    @inlinable
    package init(adopting storage: [Element]) {
        self.storage = storage
    }

    @inlinable package var count: Int { storage.count - head }
    @inlinable package var isEmpty: Bool { head == storage.count }

    @inlinable package mutating func append(_ element: Element) { storage.append(element) }

    @inlinable
    package mutating func append(contentsOf elements: some Collection<Element>) {
        storage.append(contentsOf: elements)
    }

    /// Appends a batch (compiled where the element type is concrete: the channel's common send).
    @inlinable package mutating func append(contentsOf elements: [Element]) {
        storage.append(contentsOf: elements)
    }

    /// Removes and returns the oldest item, or `nil` when the queue is empty.
    @inlinable
    package mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        dropTaken(1)
        return element
    }

    /// Moves up to `limit` items, oldest first, onto the end of `buffer`. Returns how many moved.
    @discardableResult @inlinable
    package mutating func take(upTo limit: Int, into buffer: inout [Element]) -> Int {
        let n = Swift.min(limit, count)
        if n == 0 { return 0 }
        buffer.append(contentsOf: storage[head..<(head + n)])
        dropTaken(n)
        return n
    }

    /// Moves up to `limit` items, oldest first, onto the end of `other` (no temporary array).
    ///
    /// Only resets the storage once emptied (no compaction on the way): it drains a parked
    /// sender's batch, which is short-lived and whose array is handed back whole when empty.
    @inlinable
    package mutating func move(upTo limit: Int, into other: inout FIFO<Element>) {
        let n = Swift.min(limit, count)
        if n == 0 { return }
        other.storage.append(contentsOf: storage[head..<(head + n)])
        head += n
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// How many of the oldest items (at most `limit`) pass `fits`, which sees them in order and
    /// stops the count at its first `false`.
    @inlinable
    package func countPrefix(upTo limit: Int, while fits: (Element) -> Bool) -> Int {
        var n = 0
        while n < limit && head + n < storage.count && fits(storage[head + n]) { n += 1 }
        return n
    }

    /// Calls `body` on the `n` newest items of `buffer` (those a `take` just appended).
    @inlinable
    package static func forEachLast(_ n: Int, of buffer: [Element], _ body: (Element) -> Void) {
        for i in (buffer.count - n)..<buffer.count { body(buffer[i]) }
    }

    /// Empties the queue and hands back its array (capacity kept), for reuse.
    @inlinable
    package mutating func releaseStorage() -> [Element] {
        var released: [Element] = []
        swap(&released, &storage)
        released.removeAll(keepingCapacity: true)
        head = 0
        return released
    }

    /// Empties the queue and frees its storage.
    @inlinable
    package mutating func removeAll() {
        storage.removeAll()
        head = 0
    }

    /// Moves the read index past `n` taken items; drops the consumed prefix when the queue is
    /// empty, or when it is large and at least half the array (amortised O(1) per item).
    @inlinable
    mutating func dropTaken(_ n: Int) {
        head += n
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}

extension FIFO: Sendable where Element: Sendable {}
