// Invalid resilience settings stop where they are written, with a message naming the parameter,
// the value and the stage.
import Sluice
import Testing

@Suite struct ResilienceConfigurationTests {
    @Test func attemptsBelowOne() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").retry(.attempts(0))
        }
        #expect(resilienceStderr(result).contains("attempts must be >= 1, got 0 (stage 'fetch')"), "\(resilienceStderr(result))")
    }

    @Test func negativeFixedDelay() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Map { (x: Int) in x }.retry(.attempts(2, backoff: .fixed(.seconds(-1))))
        }
        #expect(resilienceStderr(result).contains("delay must be >= 0, got -1.0 seconds (stage 'map')"), "\(resilienceStderr(result))")
    }

    @Test func negativeInitialDelay() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch")
                .retry(.attempts(2, backoff: .exponential(initial: .milliseconds(-5), max: .seconds(1))))
        }
        #expect(resilienceStderr(result).contains("initial delay must be >= 0, got -0.005 seconds (stage 'fetch')"), "\(resilienceStderr(result))")
    }

    @Test func capBelowInitialDelay() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch")
                .retry(.attempts(2, backoff: .exponential(initial: .seconds(2), max: .seconds(1))))
        }
        #expect(resilienceStderr(result).contains("max delay must be >= initial delay (2.0 seconds), got 1.0 seconds (stage 'fetch')"), "\(resilienceStderr(result))")
    }

    @Test func multiplierBelowOne() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch")
                .retry(.attempts(2, backoff: .exponential(initial: .seconds(1), multiplier: 0.5, max: .seconds(9))))
        }
        #expect(resilienceStderr(result).contains("multiplier must be >= 1, got 0.5 (stage 'fetch')"), "\(resilienceStderr(result))")
    }

    @Test func jitterOutsideZeroToOne() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").retry(.attempts(2, backoff: .fixed(.seconds(1), jitter: 1.5)))
        }
        #expect(resilienceStderr(result).contains("jitter must be in 0...1, got 1.5 (stage 'fetch')"), "\(resilienceStderr(result))")
    }

    @Test func jitterNaNNegativeOrInfinite() async {
        let nan = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").retry(.attempts(2, backoff: .fixed(.seconds(1), jitter: .nan)))
        }
        #expect(resilienceStderr(nan).contains("jitter must be in 0...1, got nan (stage 'fetch')"), "\(resilienceStderr(nan))")
        let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Map { (x: Int) in x }.retry(.attempts(2, backoff: .exponential(initial: .seconds(1), max: .seconds(2), jitter: -0.1)))
        }
        #expect(resilienceStderr(negative).contains("jitter must be in 0...1, got -0.1 (stage 'map')"), "\(resilienceStderr(negative))")
        let infinite = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").retry(.attempts(2, backoff: .fixed(.seconds(1), jitter: .infinity)))
        }
        #expect(resilienceStderr(infinite).contains("jitter must be in 0...1, got inf (stage 'fetch')"), "\(resilienceStderr(infinite))")
    }

    @Test func multiplierNaNOrInfinite() async {
        let nan = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch")
                .retry(.attempts(2, backoff: .exponential(initial: .seconds(1), multiplier: .nan, max: .seconds(9))))
        }
        #expect(resilienceStderr(nan).contains("multiplier must be >= 1, got nan (stage 'fetch')"), "\(resilienceStderr(nan))")
        let infinite = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch")
                .retry(.attempts(2, backoff: .exponential(initial: .seconds(1), multiplier: .infinity, max: .seconds(9))))
        }
        #expect(resilienceStderr(infinite).contains("multiplier must be >= 1, got inf (stage 'fetch')"), "\(resilienceStderr(infinite))")
    }

    /// Used directly, a backoff checks its values too: a jitter of 3 used to give delays from
    /// -2× to 4× the base, and a NaN jitter was ignored.
    @Test func delayBeforeRetryChecksTheValues() async {
        let jitter = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Backoff.fixed(.seconds(1), jitter: 3).delay(beforeRetry: 1)
        }
        #expect(resilienceStderr(jitter).contains("jitter must be in 0...1, got 3.0 (Backoff)"), "\(resilienceStderr(jitter))")
        let nan = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Backoff.exponential(initial: .seconds(1), max: .seconds(4), jitter: .nan).delay(beforeRetry: 2)
        }
        #expect(resilienceStderr(nan).contains("jitter must be in 0...1, got nan (Backoff)"), "\(resilienceStderr(nan))")
        let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Backoff.fixed(.seconds(-1)).delay(beforeRetry: 1)
        }
        #expect(resilienceStderr(negative).contains("delay must be >= 0, got -1.0 seconds (Backoff)"), "\(resilienceStderr(negative))")
    }

    @Test func timeoutNotPositive() async {
        let zero = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = op.map { (x: Int) in x }.named("fetch").timeout(.zero)
        }
        #expect(resilienceStderr(zero).contains("timeout must be > 0, got 0.0 seconds (stage 'fetch')"), "\(resilienceStderr(zero))")
        let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Map { (x: Int) in x }.timeout(.seconds(-3))
        }
        #expect(resilienceStderr(negative).contains("timeout must be > 0, got -3.0 seconds (stage 'map')"), "\(resilienceStderr(negative))")
    }

    @Test func policiesOnABatchStage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = (op.batch(3) as Flow<Int, [Int]>).retry(.attempts(2))
        }
        #expect(resilienceStderr(result).contains("retry cannot apply to stage 'batch': it groups consecutive items"), "\(resilienceStderr(result))")
    }

    @Test func progressIntervalNotPositive() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = PipelineMetrics(progressEvery: .zero) { _ in }
        }
        #expect(resilienceStderr(result).contains("progress interval must be > 0, got 0.0 seconds"), "\(resilienceStderr(result))")
    }
}
