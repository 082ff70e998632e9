// The example of Docs/Railway.md, run: fetch → parse → store with failing items, then a report of
// failures by stage.
import Testing
import Sluice

@Suite struct RailwayGuideTests {
    struct Page: Sendable { var url: String; var html: String }
    struct Product: Sendable, CustomStringConvertible {
        var sku: String
        var price: Int
        var description: String { "\(sku) @ \(price)" }
    }
    enum FetchError: Error, CustomStringConvertible {
        case notFound
        var description: String { "404 not found" }
    }
    enum ParseError: Error, CustomStringConvertible {
        case missingPrice
        var description: String { "no price" }
    }
    enum StoreError: Error, CustomStringConvertible {
        case duplicate(String)
        var description: String {
            switch self { case .duplicate(let sku): "duplicate sku \(sku)" }
        }
    }

    /// A tiny in-memory "web" and "database".
    static let web = [
        "/p/1": "sku=A1;price=10",
        "/p/2": "sku=B2",
        "/p/3": "sku=C3;price=30",
        "/p/5": "sku=A1;price=12",
        "/p/6": "sku=F6;price=60",
    ]

    static func fetch(_ url: String) async throws -> Page {
        await Task.yield()
        guard let html = web[url] else { throw FetchError.notFound }
        return Page(url: url, html: html)
    }

    static func parse(_ page: Page) throws -> Product {
        var fields: [Substring: Substring] = [:]
        for pair in page.html.split(separator: ";") {
            let kv = pair.split(separator: "=")
            fields[kv[0]] = kv[1]
        }
        guard let sku = fields["sku"], let price = fields["price"].flatMap({ Int($0) }) else { throw ParseError.missingPrice }
        return Product(sku: String(sku), price: price)
    }

    static func store(_ product: Product) async throws -> Product {
        if product.sku == "A1" && product.price != 10 { throw StoreError.duplicate(product.sku) }
        return product
    }

    @Test func fetchParseStoreWithAFailureReport() async throws {
        let urls = (1...6).map { "/p/\($0)" }
        let ingest = op.tryMap(Self.fetch).workers(8).named("fetch")
            | op.thenMap(Self.parse).named("parse")
            | op.thenMap(Self.store).workers(2).named("store")

        let (stored, failures) = try await ingest(urls).partition()

        var report = ["\(stored.count) stored, \(failures.count) failed"]
        let byStage = Dictionary(grouping: failures, by: \.stage)
        for stage in ["fetch", "parse", "store"] {
            let failed = byStage[stage] ?? []
            report.append("\(stage): \(failed.count)")
            report += failed.map { "  \($0)" }
        }
        let built = Flow<String, Result<Product, StageFailure>> {
            TryMap(Self.fetch).workers(8).named("fetch")
            ThenMap(Self.parse).named("parse")
            ThenMap(Self.store).workers(2).named("store")
        }
        #expect(built.stages == ingest.stages)
        #expect(stored.map(\.description) == ["A1 @ 10", "C3 @ 30", "F6 @ 60"])
        #expect(report == [
            "3 stored, 3 failed",
            "fetch: 1",
            "  [fetch] item /p/4: 404 not found",
            "parse: 1",
            "  [parse] item Page(url: \"/p/2\", html: \"sku=B2\"): no price",
            "store: 1",
            "  [store] item A1 @ 12: duplicate sku A1",
        ])
    }
}
