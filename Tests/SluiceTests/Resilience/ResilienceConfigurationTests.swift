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
