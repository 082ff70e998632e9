// The builder: `$0` while the element type is the input, control flow, fragments as statements.
import Sluice
import Testing

struct Extract: FlowComponent {
    var flow: Flow<CrawledPage, String> {
        FlatMap(links)
        Filter(isInternal)
        Map(normalize)
    }
}

struct AddN: FlowComponent {
    var n: Int
    var flow: Flow<Int, Int> {
        Map { $0 + n }
    }
}

@Suite struct BuilderTests {
    @Test func dollarZeroWorksWhileTheTypeIsTheInput() async throws {
        let flow = Flow<Int, String> {
            Map { $0 * 2 }
            Filter { $0 > 2 }
            CompactMap { $0 == 6 ? nil : $0 }
            ForEach { _ in }
            Map { (x: Int) in String(x) }
            Filter { (s: String) in !s.isEmpty }
        }
        #expect(try await flow([1, 2, 3, 4]).collect() == ["4", "8"])
    }

    @Test func namedFragmentsEmbedAsStatements() async throws {
        let crawl = Flow<CrawledPage, String> {
            Extract()
            Filter { (url: String) in url != "/b" }
        }
        #expect(try await crawl(TwoStylesTests.pages).collect() == ["/c", "/d"])
        let same: Flow<CrawledPage, String> = Extract().flow | op.filter { $0 != "/b" }
        #expect(crawl.stages == same.stages)
        let add = Flow<Int, Int> {
            AddN(n: 1)
            AddN(n: 10)
        }
        #expect(try await add([0]).collect() == [11])
    }

    @Test(arguments: [true, false])
    func ifElse(_ doubling: Bool) async throws {
        let flow = Flow<Int, Int> {
            if doubling {
                Map { $0 * 2 }
            } else {
                Map { $0 + 100 }
                Filter { $0 > 101 }
            }
        }
        #expect(try await flow([1, 2]).collect() == (doubling ? [2, 4] : [102]))
    }

    @Test(arguments: [true, false])
    func ifWithoutElse(_ filtering: Bool) async throws {
        let flow = Flow<Int, Int> {
            Map { $0 + 1 }
            if filtering {
                Filter { $0 > 2 }
            }
        }
        #expect(try await flow([1, 2]).collect() == (filtering ? [3] : [2, 3]))
    }

    @Test(arguments: [0, 1, 2])
    func switchStatement(_ mode: Int) async throws {
        let flow = Flow<Int, Int> {
            switch mode {
            case 0: Map { $0 }
            case 1: Map { $0 * 10 }
            default: Filter { _ in false }
            }
        }
        #expect(try await flow([1, 2]).collect() == [[1, 2], [10, 20], []][mode])
    }

    @Test func forLoops() async throws {
        let flow = Flow<Int, Int> {
            for k in 1...3 {
                Map { $0 * k }
            }
        }
        #expect(flow.stages.count == 3)
        #expect(try await flow([1]).collect() == [6])
    }

    @Test func closureFreeComponentsAfterATypeChangeSpellTheirInput() async throws {
        let flow = Flow<Int, [String]> {
            Map { (x: Int) in String(x) }
            Batch<String>(2)
        }
        #expect(try await flow([1, 2, 3]).collect() == [["1", "2"], ["3"]])
    }

    @Test func emptyBuilderIsTheIdentity() async throws {
        let flow = Flow<Int, Int> {}
        #expect(flow.stages.isEmpty)
        #expect(try await flow([1, 2]).collect() == [1, 2])
    }
}
