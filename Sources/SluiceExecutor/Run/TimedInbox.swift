// The hand-over between a timed stage's three tasks: the reader that drains the input channel,
// the timer that sleeps until the stage's deadline, and the worker that runs the kernel.

/// A timed stage's input buffer and wake-ups. The reader `put`s items (waiting for room, or
/// dropping, as the overflow says); the worker `take`s them, or wakes when the timer reaches the
/// deadline it `arm`ed, when the input ends, or when it must stop. Every continuation is resumed
/// outside the lock, exactly once.
final class TimedInbox<Element: Sendable>: Sendable {
    /// What `take` returns.
    enum Event {
        /// Items were moved into the caller's buffer.
        case items
        /// The timer reached the armed deadline (or a stale one: the worker checks the time).
        case wake
        /// The input ended: normally (`nil`) or with a failure (every item before it was taken).
        case end((any Error)?)
        /// The worker must stop.
        case stopped
    }

    private struct State {
        var items = FIFO<Element>()
        var end: (any Error)??
        var stopped = false
        var woken = false
        /// The deadline the worker waits for (`nil`: none), and the last one the timer slept to.
        var deadline: Duration?
        var slept: Duration?
        var closed = false
        var worker: UnsafeContinuation<Void, Never>?
        var reader: UnsafeContinuation<Void, Never>?
        var timer: UnsafeContinuation<Void, Never>?
    }

    private let state = Lock(State())
    let capacity: Int
    let overflow: Overflow
    private let onDrop: (@Sendable (Element) -> Void)?
    private let countDrops: (@Sendable (Int) -> Void)?

    init(capacity: Int, overflow: Overflow, onDrop: (@Sendable (Element) -> Void)?, countDrops: (@Sendable (Int) -> Void)?) {
        self.capacity = capacity
        self.overflow = overflow
        self.onDrop = onDrop
        self.countDrops = countDrops
    }

    // MARK: reader

    /// Adds `batch` (emptied). With `.wait`, suspends while the buffer is full; otherwise drops.
    /// Returns `false` once the worker stopped (the reader should leave).
    func put(_ batch: inout [Element]) async -> Bool {
        var dropped: [Element] = []
        var index = 0
        defer { batch.removeAll(keepingCapacity: true) }
        while index < batch.count {
            let (wake, wait, stop) = state.withLock { s -> (UnsafeContinuation<Void, Never>?, Bool, Bool) in
                if s.stopped || s.closed { return (nil, false, true) }
                while index < batch.count {
                    if s.items.count < capacity {
                        s.items.append(batch[index])
                    } else {
                        switch overflow {
                        case .wait:
                            return (Self.takeWorker(&s), true, false)
                        case .dropOldest:
                            if let old = s.items.popFirst() { dropped.append(old) }
                            s.items.append(batch[index])
                        case .dropNewest:
                            dropped.append(batch[index])
                        }
                    }
                    index += 1
                }
                return (Self.takeWorker(&s), false, false)
            }
            wake?.resume()
            report(&dropped)
            if stop { return false }
            if wait {
                await withTaskCancellationHandler {
                    await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                        let now = state.withLock { s -> Bool in
                            if s.stopped || s.closed || s.items.count < capacity { return true }
                            s.reader = c
                            return false
                        }
                        if now { c.resume() }
                    }
                } onCancel: { self.stop() }
            }
        }
        return true
    }

    private func report(_ dropped: inout [Element]) {
        guard !dropped.isEmpty else { return }
        countDrops?(dropped.count)
        if let onDrop { for x in dropped { onDrop(x) } }
        dropped.removeAll()
    }

    /// The input ended (`nil`) or failed.
    func end(_ failure: (any Error)?) {
        let wake = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            if s.end == nil { s.end = .some(failure) }
            return Self.takeWorker(&s)
        }
        wake?.resume()
    }

    // MARK: worker

    /// Moves up to `limit` items into `buffer`, or reports why there are none, waiting if needed.
    func take(into buffer: inout [Element], limit: Int) async -> Event {
        while true {
            let (event, reader) = state.withLock { s -> (Event?, UnsafeContinuation<Void, Never>?) in
                if s.stopped { return (.stopped, nil) }
                if !s.items.isEmpty {
                    _ = s.items.take(upTo: limit, into: &buffer)
                    let r = s.reader
                    s.reader = nil
                    return (.items, r)
                }
                if let end = s.end { return (.end(end), nil) }
                if s.woken {
                    s.woken = false
                    return (.wake, nil)
                }
                return (nil, nil)
            }
            reader?.resume()
            if let event { return event }
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.stopped || !s.items.isEmpty || s.end != nil || s.woken { return true }
                    s.worker = c
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    /// The time the worker wants to be woken at (`nil`: none). Deadlines only move forward.
    func arm(_ deadline: Duration?) {
        let timer = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            s.deadline = deadline
            guard deadline != nil, deadline != s.slept else { return nil }
            let t = s.timer
            s.timer = nil
            return t
        }
        timer?.resume()
    }

    // MARK: timer

    /// The next deadline to sleep to, waiting until one is armed; `nil` once the inbox is closed.
    func nextDeadline() async -> Duration? {
        while true {
            let next = state.withLock { s -> Duration?? in
                if s.closed || s.stopped { return .some(nil) }
                if let d = s.deadline, d != s.slept {
                    s.slept = d
                    return .some(d)
                }
                return nil
            }
            if let next { return next }
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.closed || s.stopped { return true }
                    if let d = s.deadline, d != s.slept { return true }
                    s.timer = c
                    return false
                }
                if now { c.resume() }
            }
        }
    }

    /// The timer reached a deadline: wake the worker, which compares the time with its deadline.
    func wake() {
        let worker = state.withLock { s -> UnsafeContinuation<Void, Never>? in
            s.woken = true
            return Self.takeWorker(&s)
        }
        worker?.resume()
    }

    // MARK: stopping

    /// The worker must stop: wakes every task waiting here. Idempotent.
    func stop() {
        let all = state.withLock { s -> [UnsafeContinuation<Void, Never>] in
            s.stopped = true
            return Self.takeAll(&s)
        }
        for c in all { c.resume() }
    }

    /// The worker is done: the reader and the timer leave. Idempotent.
    func close() {
        let all = state.withLock { s -> [UnsafeContinuation<Void, Never>] in
            s.closed = true
            s.items.removeAll()
            return Self.takeAll(&s)
        }
        for c in all { c.resume() }
    }

    private static func takeWorker(_ s: inout State) -> UnsafeContinuation<Void, Never>? {
        defer { s.worker = nil }
        return s.worker
    }

    private static func takeAll(_ s: inout State) -> [UnsafeContinuation<Void, Never>] {
        defer { s.worker = nil; s.reader = nil; s.timer = nil }
        return [s.worker, s.reader, s.timer].compactMap { $0 }
    }
}
