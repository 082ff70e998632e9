// The same flow written with `|` and with the builder describes the same graph and gives the same output.
import Sluice
import Testing

struct CrawledPage: Sendable, Equatable {
    var url: String
    var links: [String]
}

func links(_ page: CrawledPage) -> [String] { page.links }
func isInternal(_ url: String) -> Bool { url.hasPrefix("/") }
func normalize(_ url: String) -> String { url.lowercased() }

@Suite struct TwoStylesTests {
    static let pages = [
        CrawledPage(url: "/a", links: ["/B", "http://x", "/C"]),
        CrawledPage(url: "/b", links: []),
        CrawledPage(url: "/c", links: ["/D"]),
    ]

    @Test func pipeAndBuilderBuildTheSameGraph() async throws {
        let piped: Flow<CrawledPage, String> = op.flatMap(links) | op.filter(isInternal) | op.map(normalize)
        let built = Flow<CrawledPage, String> {
            FlatMap(links)
            Filter(isInternal)
            Map(normalize)
        }
        #expect(piped.stages == built.stages)
        #expect(piped.stages.map(\.kind) == ["flatMap", "filter", "map"])
        #expect(try await piped(Self.pages).collect() == ["/b", "/c", "/d"])
        #expect(try await built(Self.pages).collect() == ["/b", "/c", "/d"])
    }

    @Test func modifiersAreTheSameInBothStyles() async throws {
        let piped = op.map { (x: Int) async in x * 2 }.workers(4).buffer(8).named("double")
            | op.filter { $0 > 2 }.unordered()
            | op.batch(2)
        let built = Flow<Int, [Int]> {
            Map { (x: Int) async in x * 2 }.workers(4).buffer(8).named("double")
            Filter { $0 > 2 }.unordered()
            Batch(2)
        }
        #expect(piped.stages == built.stages)
        #expect(piped.stages[0].description == "double: map(workers: 4, buffer: 8)")
        #expect(piped.stages[1].description == "filter(unordered)")
        let input = Array(1...9)
        #expect(try await piped(input).collect().flatMap { $0 }.sorted() == [4, 6, 8, 10, 12, 14, 16, 18])
        #expect(try await built(input).collect().flatMap { $0 }.sorted() == [4, 6, 8, 10, 12, 14, 16, 18])
    }

    @Test func aModifierOnAFragmentMakesItOneStage() async throws {
        let fragment = (op.map { (x: Int) in x + 1 } | op.filter { $0.isMultiple(of: 2) }).workers(3).named("step")
        #expect(fragment.stages.count == 1)
        #expect(fragment.stages[0].kind == "group")
        #expect(fragment.stages[0].name == "step")
        #expect(fragment.stages[0].workers == 3)
        #expect(fragment.stages[0].children.map(\.kind) == ["map", "filter"])
        #expect(try await fragment(0..<10).collect() == [2, 4, 6, 8, 10])
        let built = Flow<Int, Int> {
            Flow<Int, Int> {
                Map { $0 + 1 }
                Filter { $0.isMultiple(of: 2) }
            }.workers(3).named("step")
        }
        #expect(built.stages == fragment.stages)
    }

    @Test func errorsInsideANamedFragmentCarryItsName() async throws {
        let fragment = (op.map { (x: Int) in x } | op.map { (x: Int) throws -> Int in
            if x == 3 { throw Boom(code: 3) }
            return x
        }.named("check")).named("validate").workers(2)
        await #expect {
            try await fragment(1...5).collect()
        } throws: { error in
            (error as? StageFailure)?.stage == "validate/check"
        }
    }

    @Test func pipelinesCompose() async throws {
        let double: Flow<Int, Int> = op.map { $0 * 2 }
        let p = Pipeline([1, 2, 3]) | double | op.filter { $0 > 2 } | double
        #expect(try await p.collect() == [8, 12])
        #expect(p.stages.map(\.kind) == ["map", "filter", "map"])
        let identity = Flow<Int, Int>()
        #expect(try await identity([4, 5]).collect() == [4, 5])
        #expect((identity | double).stages == double.stages)
    }
}
