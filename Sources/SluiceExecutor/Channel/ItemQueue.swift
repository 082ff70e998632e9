// A FIFO of items that reuses its storage: no allocation per item in steady state.

/// A FIFO queue backed by one array and a read index. Taking everything resets the array while
/// keeping its capacity, so a channel that is drained by batches never reallocates.
package struct ItemQueue<Element> {
    private var storage: [Element] = []
    private var head = 0

    package init() {}

    /// A queue holding `storage`'s items, taking over the array (no copy).
    package init(adopting storage: [Element]) {
        self.storage = storage
    }

    package var count: Int { storage.count - head }
    package var isEmpty: Bool { head == storage.count }

    package mutating func append(_ element: Element) { storage.append(element) }

    package mutating func append(contentsOf elements: some Collection<Element>) {
        storage.append(contentsOf: elements)
    }

    /// Moves up to `limit` items, oldest first, onto the end of `buffer`. Returns how many moved.
    @discardableResult
    package mutating func take(upTo limit: Int, into buffer: inout [Element]) -> Int {
        let n = Swift.min(limit, count)
        if n == 0 { return 0 }
        buffer.append(contentsOf: storage[head..<(head + n)])
        head += n
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return n
    }

    /// Moves up to `limit` items, oldest first, onto the end of `other` (no temporary array).
    package mutating func move(upTo limit: Int, into other: inout ItemQueue<Element>) {
        let n = Swift.min(limit, count)
        if n == 0 { return }
        other.storage.append(contentsOf: storage[head..<(head + n)])
        head += n
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// Empties the queue and hands back its array (capacity kept), for reuse.
    package mutating func releaseStorage() -> [Element] {
        var released: [Element] = []
        swap(&released, &storage)
        released.removeAll(keepingCapacity: true)
        head = 0
        return released
    }

    package mutating func removeAll() {
        storage.removeAll()
        head = 0
    }
}
