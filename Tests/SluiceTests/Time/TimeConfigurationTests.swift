// Invalid configuration of the timed stages, the rate limiter and the run limits is rejected where
// it is written, with a message naming the parameter, the value and the stage (exit tests).
import Sluice
import Testing

@Suite struct TimeConfigurationTests {
    @Test func batchWithinZero() async {
        let piped = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.batch(10, within: .zero) as Flow<Int, [Int]>
        }
        #expect(stderrText(piped).contains("batch within must be > 0, got 0.0 seconds (stage 'batch')"), "\(stderrText(piped))")
        let built = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Batch<Int>(0, within: .seconds(1))
        }
        #expect(stderrText(built).contains("batch size must be >= 1, got 0 (stage 'batch')"), "\(stderrText(built))")
    }

    @Test func batchMaxWeightZero() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Batch<Int>(maxWeight: 0) { $0 }
        }
        #expect(stderrText(result).contains("batch maxWeight must be >= 1, got 0 (stage 'batch')"), "\(stderrText(result))")
    }

    @Test func debounceZero() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Debounce<Int>(for: .zero)
        }
        #expect(stderrText(result).contains("debounce interval must be > 0, got 0.0 seconds (stage 'debounce')"), "\(stderrText(result))")
    }

    @Test func parallelTimedBatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = (op.batch(3, within: .seconds(1)) as Flow<Int, [Int]>).workers(4)
        }
        #expect(stderrText(result).contains("workers must be 1 for stage 'batch', got 4"), "\(stderrText(result))")
    }

    @Test func aTimedStageInsideAGroup() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = (op.map { (x: Int) in x } | op.debounce(for: .seconds(1))).named("g")
        }
        #expect(stderrText(result).contains("stage 'debounce' acts on time and cannot be inside a fragment"), "\(stderrText(result))")
    }

    @Test func dropBufferOfZero() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.buffer(0, whenFull: .dropOldest)
        }
        #expect(stderrText(result).contains("buffer size must be >= 1 with a drop policy, got 0 (stage 'buffer')"), "\(stderrText(result))")
    }

    @Test func runLimitsOfZero() async {
        let timeout = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Pipeline([1]).timeout(.zero)
        }
        #expect(stderrText(timeout).contains("timeout must be > 0, got 0.0 seconds (pipeline)"), "\(stderrText(timeout))")
        let idle = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Pipeline([1]).idleTimeout(.seconds(-1))
        }
        #expect(stderrText(idle).contains("idleTimeout must be > 0, got -1.0 seconds (pipeline)"), "\(stderrText(idle))")
    }

    @Test func rateLimiterLimits() async {
        let rate = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = RateLimiter(rate: 0)
        }
        #expect(stderrText(rate).contains("rate must be finite and > 0, got 0.0 (rate limiter)"), "\(stderrText(rate))")
        let burst = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            RateLimiter(rate: 5, burst: 2).setRate(.infinity)
        }
        #expect(stderrText(burst).contains("rate must be finite and > 0, got inf (rate limiter)"), "\(stderrText(burst))")
        let zeroBurst = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = RateLimiter(rate: 5, burst: 0)
        }
        #expect(stderrText(zeroBurst).contains("burst must be >= 1, got 0 (rate limiter)"), "\(stderrText(zeroBurst))")
    }

    @Test func perItemModifiersOnATimedStage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = (op.debounce(for: .seconds(1)) as Flow<Int, Int>).retry(.attempts(2))
        }
        #expect(stderrText(result).contains("retry cannot apply to stage 'debounce'"), "\(stderrText(result))")
    }
}
