// DESIGN §3.6: after a terminal returns or a `for try await` loop exits, nothing of the run is
// running: no stage body starts again and the source is not read again.
import Sluice
import SluiceTestSupport
import Testing

@Suite struct CancellationTests {
    @Test func breakStopsEveryStageAndTheSource() async throws {
        let pulled = Counter(), starts = Counter()
        let p = Pipeline(CountingAsyncSequence(count: nil, pulled: pulled))
            | op.map { (x: Int) async -> Int in
                starts.increment()
                return x
            }.workers(3)
            | op.filter { (x: Int) in x >= 0 }
        var seen: [Int] = []
        for try await x in p {
            seen.append(x)
            if seen.count == 5 { break }
        }
        #expect(seen == [0, 1, 2, 3, 4])
        await yieldRepeatedly(200)
        let (pulledAfter, startsAfter) = (pulled.value, starts.value)
        await yieldRepeatedly()
        #expect(pulled.value == pulledAfter)
        #expect(starts.value == startsAfter)
    }

    @Test func breakOnAFusedSynchronousPipeline() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled)) | op.map { $0 * 2 }
        for try await x in p where x == 10 { break }
        await yieldRepeatedly(200)
        let after = pulled.value
        await yieldRepeatedly()
        #expect(pulled.value == after)
    }

    @Test func firstStopsEverything() async throws {
        let pulled = Counter(), starts = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled)) | op.map { (x: Int) async -> Int in
            starts.increment()
            return x + 1
        }.workers(2)
        #expect(try await p.first() == 1)
        let (pulledAfter, startsAfter) = (pulled.value, starts.value)
        await yieldRepeatedly()
        #expect(pulled.value == pulledAfter)
        #expect(starts.value == startsAfter)
    }

    @Test func takeStopsEverything() async throws {
        let pulled = Counter()
        let p = Pipeline(CountingSequence(count: nil, pulled: pulled)) | op.map { $0 * 3 }
        #expect(try await p.take(4) == [0, 3, 6, 9])
        let after = pulled.value
        await yieldRepeatedly()
        #expect(pulled.value == after)
    }

    @Test func cancellingTheCallerStopsTheSourceAndTheStages() async throws {
        let pulled = Counter(), starts = Counter()
        let p = Pipeline(CountingAsyncSequence(count: nil, pulled: pulled)) | op.map { (x: Int) async -> Int in
            starts.increment()
            return x
        }.workers(2)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await p.drain() }
            await starts.wait(atLeast: 50)
            group.cancelAll()
        }
        // The group has returned: the run is over.
        let (pulledAfter, startsAfter) = (pulled.value, starts.value)
        await yieldRepeatedly()
        #expect(pulled.value == pulledAfter)
        #expect(starts.value == startsAfter)
    }

    @Test func cancellingALoopingCallerEndsTheLoopWithCancellationError() async throws {
        let received = Counter()
        let p = Pipeline(CountingAsyncSequence(count: nil)) | op.map { (x: Int) async in x }
        let error = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    for try await _ in p { received.increment() }
                    return nil
                } catch {
                    return error
                }
            }
            await received.wait(atLeast: 10)
            group.cancelAll()
            return await group.next()!
        }
        #expect(error is CancellationError)
    }
}
