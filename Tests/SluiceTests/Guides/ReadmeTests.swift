// The README's quick start, compiled and run as written (keep the two in sync).
import Sluice
import Testing

private struct Page: Sendable { var url: String; var body: String }
private func fetch(_ url: String) async throws -> Page { Page(url: url, body: "<a href=/next>") }
private func isValid(_ page: Page) -> Bool { !page.body.isEmpty }
private func wordCount(_ page: Page) -> Int { page.body.split(separator: " ").count }

@Suite struct ReadmeTests {
    @Test func quickStart() async throws {
        let urls = (1...100).map { "https://example.com/\($0)" }

        // Pipe style
        let counts = try await (Pipeline(urls)
            | op.map(fetch).workers(8)
            | op.filter(isValid)
            | op.map(wordCount)).collect()

        // Builder style: the same graph, as a reusable fragment
        let ingest = Flow<String, Int> {
            Map(fetch).workers(8)
            Filter(isValid)
            Map(wordCount)
        }
        let same = try await ingest(urls).collect()

        var printed: [Int] = []
        for try await n in ingest(urls) where n > 1 { printed.append(n); break }

        // Fan-out I/O whose order does not matter: hand results on as they complete
        let total = try await (Pipeline(urls) | op.map(fetch).workers(32).unordered() | op.map(wordCount)).reduce(0, +)
        #expect(total == 200)

        #expect(counts == Array(repeating: 2, count: 100))
        #expect(same == counts)
        #expect(printed == [2])
        #expect((op.map(fetch).workers(8) | op.filter(isValid) | op.map(wordCount)).stages == ingest.stages)
    }
}
