// The timeout's watchdog: one sleep per deadline it watches, however many items begin and end.
import SluiceTestSupport
import Testing
@testable import Sluice

@Suite struct WatchdogTests {
    /// A watchdog that runs late, after the item it was armed for has ended (a busy machine, a
    /// worker faster than the watchdog's turn), still sleeps until that item's deadline instead
    /// of going idle, so the items that follow meanwhile do not wake it each: one sleep for the
    /// first item and the hundred after it. When it wakes, it sleeps on until the deadline of the
    /// item begun last (here already past, and that item done: it goes idle), and the next item
    /// arms it again.
    @Test func aLateWatchdogSleepsUntilTheDeadlineOfTheItemBegunLast() async throws {
        let clock = TestClock()
        let watchdog = Watchdog(limit: .seconds(10), clock: clock)
        watchdog.begin()
        #expect(!watchdog.end())
        let running = Task { await watchdog.run() }
        defer { running.cancel() }
        try await withDeadline { await clock.waitForSleepers(1) }
        for _ in 0..<100 {
            watchdog.begin()
            #expect(!watchdog.end())
        }
        #expect(clock.sleeps == [.seconds(10)])
        clock.advance(by: .seconds(10))
        watchdog.begin()   // t+10 s: the next deadline is t+20 s
        try await withDeadline { await clock.waitForSleepers(1) }
        #expect(clock.sleeps.count <= 3, "\(clock.sleeps)")
        #expect(!watchdog.end())
    }

    /// An item still in hand at its deadline fires the watchdog: `end` says so.
    @Test func anItemInHandAtItsDeadlineFires() async throws {
        let clock = TestClock()
        let interrupted = Counter()
        let watchdog = Watchdog(limit: .seconds(10), clock: clock) { interrupted.increment() }
        let running = Task { await watchdog.run() }
        defer { running.cancel() }
        watchdog.begin()
        try await withDeadline {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(10))
            await interrupted.wait(atLeast: 1)
        }
        #expect(watchdog.end())
    }
}
