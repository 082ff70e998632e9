import Benchmark

/// W3 — CPU fan-out: 200,000 items → ~20 µs of pure integer work per item → sum.
///
/// About 4 s of work per run on one core, 2 s at best on the benchmark machine's two cores.
/// Baselines: the plain loop (what `workers(1)` should approach) and a task group with one child task
/// per core taking every other item (what `workers(2)` should approach).
enum W3CPUFanOut {
    static let count = 200_000

    /// Rounds of `mix` per item. Calibrated on the benchmark machine (2-core AMD EPYC VM, Swift 6.3.1,
    /// -O): 5_500 rounds measured 19.8–22.4 µs per item; the plain loop over 200_000 items takes 3.97 s.
    static let rounds = 5_500

    /// The plain loop's result, recorded here because computing it costs 4 s per benchmark process
    /// (package-benchmark runs each benchmark in its own process). The plain-loop benchmark re-checks it
    /// on every run; if `rounds` or `count` change, it stops and prints the new value.
    static let expected = -8_621_497_005_593_930_630

    static func register() {
        let config = Benchmark.Configuration.workload(warmup: 0, maxIterations: 3, maxDuration: .seconds(10))

        Benchmark("W3 CPU fan-out: plain loop", configuration: config) { _ in
            verify(plainLoop(count), equals: expected, "W3 plain loop")
        }
        Benchmark("W3 CPU fan-out: task group, 2 tasks", configuration: config) { _ in
            let result = await onChosenExecutor { await taskGroup(count, tasks: 2) }
            verify(result, equals: expected, "W3 task group")
        }
    }

    /// The per-item work.
    static func work(_ x: Int) -> Int {
        hashRounds(x, rounds: rounds)
    }

    static func plainLoop(_ n: Int) -> Int {
        var sum = 0
        for x in 0..<n {
            sum &+= work(x)
        }
        return sum
    }

    /// `tasks` child tasks, task `t` taking items `t, t + tasks, t + 2·tasks, …`; partial sums added up.
    static func taskGroup(_ n: Int, tasks: Int) async -> Int {
        await withTaskGroup(of: Int.self, returning: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var sum = 0
                    for x in stride(from: t, to: n, by: tasks) {
                        sum &+= work(x)
                    }
                    return sum
                }
            }
            var sum = 0
            for await partial in group {
                sum &+= partial
            }
            return sum
        }
    }
}
