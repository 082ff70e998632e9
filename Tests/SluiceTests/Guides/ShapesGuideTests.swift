// The graph-shape guides' examples, compiled and run as written, and their diagrams: each guide
// shows the `mermaid` of its example, and this test fails when the two differ.
import Foundation
import Sluice
import Testing

// A small web to crawl: every page links to a few others, with cycles.
private struct WebPage: Sendable, Hashable {
    var url: String
    var links: [String]
}

private let web: [String: [String]] = [
    "/": ["/docs", "/blog", "/about"],
    "/docs": ["/", "/docs/intro", "/docs/api"],
    "/docs/intro": ["/docs", "/docs/api"],
    "/docs/api": ["/docs/intro", "/docs/api/flow"],
    "/docs/api/flow": ["/docs/api"],
    "/blog": ["/", "/blog/1", "/blog/2"],
    "/blog/1": ["/blog/2", "/about"],
    "/blog/2": ["/blog/1"],
    "/about": ["/"],
]

private func fetch(_ url: String) async throws -> WebPage {
    await Task.yield()
    return WebPage(url: url, links: web[url] ?? [])
}

/// The diagrams shown in the guides.
private enum GuideDiagrams {
    static var fanIn: Pipeline<String> {
        Pipeline.merge(
            Pipeline(["a.log", "b.log"]) | op.map { "archive/\($0)" },
            Pipeline(["today.log"]))
            | op.map { $0.uppercased() }.workers(4).named("load")
    }

    static var broadcast: Flow<Int, String> {
        op.broadcast(
            op.map { (id: Int) in "db:\(id)" }.named("write"),
            op.map { (id: Int) in "index:\(id)" }.retry(.attempts(3)).named("index")
        ).workers(8)
    }

    static var route: Flow<String, String> {
        op.route(by: { (file: String) in file.split(separator: ".").last.map(String.init) ?? "" }, [
            "png": op.map { "thumbnail of \($0)" },
            "mp4": op.map { "first frame of \($0)" } | op.map { "thumbnail of \($0)" },
        ], default: op.map { "icon for \($0)" }).workers(4)
    }

    static var partitioned: Flow<(user: Int, event: String), String> {
        op.map { (e: (user: Int, event: String)) async in "user \(e.user): \(e.event)" }
            .named("apply").workers(8).partitioned(by: \.user)
    }

    static var crawler: Flow<String, WebPage> {
        op.expand(dedupe: .items, maxDepth: 3) { (url: String) in
            let page = try await fetch(url)
            return (page, page.links)
        }.workers(8).named("crawl")
    }
}

@Suite struct ShapesGuideTests {
    static func guide(_ name: String) throws -> String {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../Docs/\(name)").standardized
        return try String(contentsOf: docs, encoding: .utf8)
    }

    /// Each guide shows its example's diagram as the code draws it today.
    @Test(arguments: [
        ("FanIn.md", GuideDiagrams.fanIn.mermaid),
        ("FanOut.md", GuideDiagrams.broadcast.mermaid),
        ("FanOut.md", GuideDiagrams.route.mermaid),
        ("PerKeyOrder.md", GuideDiagrams.partitioned.mermaid),
        ("Expansion.md", GuideDiagrams.crawler.mermaid),
    ])
    func guidesShowTheDiagramOfTheirExample(page: String, diagram: String) throws {
        let text = try Self.guide(page)
        #expect(text.contains("```mermaid\n\(diagram)```"), "\(page) should show:\n\(diagram)")
    }

    @Test func theCrawler() async throws {
        // Pages within 3 links of "/", each fetched once, 8 at a time. (A page's depth is that of
        // the first path that reached it, so near the limit the set depends on timing.)
        let pages = try await GuideDiagrams.crawler(["/"]).collect()
        let urls = pages.map(\.url)
        #expect(urls.count == Set(urls).count)
        #expect(Set(urls).isSubset(of: Set(web.keys)))
        #expect(Set(["/", "/docs", "/blog", "/about"]).isSubset(of: Set(urls)))
        // Without a depth limit, every reachable page, exactly once.
        let all = try await op.expand(dedupe: .items) { (url: String) in
            let page = try await fetch(url)
            return (page, page.links)
        }.workers(8)(["/"]).collect()
        #expect(Set(all.map(\.url)) == Set(web.keys) && all.count == web.count)
        // The same crawler in the builder.
        let crawl = Flow<String, WebPage> {
            Expand(dedupe: .items, maxDepth: 3) { (url: String) in
                let page = try await fetch(url)
                return (page, page.links)
            }.workers(8).named("crawl")
        }
        #expect(crawl.stages == GuideDiagrams.crawler.stages)
        let shallow = try await op.expand(dedupe: .items, maxDepth: 1) { (url: String) in
            let page = try await fetch(url)
            return (page, page.links)
        }(["/"]).collect()
        #expect(Set(shallow.map(\.url)) == ["/", "/docs", "/blog", "/about"])   // one seed: depth 1 is exact
    }

    @Test func theOtherExamplesRun() async throws {
        #expect(try await GuideDiagrams.fanIn.collect().sorted() == ["ARCHIVE/A.LOG", "ARCHIVE/B.LOG", "TODAY.LOG"])
        #expect(try await GuideDiagrams.broadcast([1, 2]).collect() == ["db:1", "index:1", "db:2", "index:2"])
        #expect(try await GuideDiagrams.route(["a.png", "b.mp4", "c.txt"]).collect()
                == ["thumbnail of a.png", "thumbnail of first frame of b.mp4", "icon for c.txt"])
        let events = [(user: 1, event: "login"), (user: 2, event: "login"), (user: 1, event: "buy")]
        let applied = try await GuideDiagrams.partitioned(events).collect()
        #expect(applied.filter { $0.hasPrefix("user 1") } == ["user 1: login", "user 1: buy"])
    }

    /// Prints every guide diagram (run with `--filter printDiagrams` to refresh the guides).
    @Test func printDiagrams() {
        for d in [GuideDiagrams.fanIn.mermaid, GuideDiagrams.broadcast.mermaid, GuideDiagrams.route.mermaid,
                  GuideDiagrams.partitioned.mermaid, GuideDiagrams.crawler.mermaid] {
            print("```mermaid\n\(d)```\n")
        }
    }
}
