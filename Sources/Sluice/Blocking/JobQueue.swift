// The pool's first-in, first-out job queue: amortised O(1) append and removal, no per-job allocation.

/// A FIFO queue over an array with a moving head; the consumed prefix is dropped in bulk.
package struct JobQueue<Element> {
    private var items: [Element?] = []
    private var head = 0

    package init() {}

    package var isEmpty: Bool { head == items.count }
    package var count: Int { items.count - head }

    package mutating func append(_ element: Element) { items.append(element) }

    package mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }
}
