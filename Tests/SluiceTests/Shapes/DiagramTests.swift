// `flow.mermaid` / `pipeline.mermaid`: names, kinds, options, policies, branches and merges.
import Sluice
import Testing

@Suite struct DiagramTests {
    @Test func aStraightFlowWithOptionsAndPolicies() {
        let pool = BlockingPool(threads: 2)
        let flow = op.map { (x: Int) async throws in x }.timeout(.seconds(2)).retry(.attempts(3)).workers(8).named("fetch")
            | op.filter { $0 > 0 }
            | op.map { (x: Int) in x }.blocking(on: pool).buffer(0).unordered().workers(2)
        #expect(flow.mermaid == """
            flowchart LR
              input([input])
              n1["fetch: map<br/>workers 8 · ordered<br/>timeout 2.0 seconds · retry ×3"]
              input --> n1
              n2["filter"]
              n1 --> n2
              n3["map<br/>workers 2 · buffer 0 (rendezvous) · unordered<br/>blocking pool (2 threads)"]
              n2 --> n3
              output([output])
              n3 --> output

            """)
    }

    @Test func branchesMergesGroupsAndFanIn() {
        let route: Flow<Int, Int> = op.route(by: { $0 % 2 == 0 }, [true: op.map { $0 / 2 }, false: Flow()])
        let flow = op.broadcast(route, (op.map { $0 + 1 } | op.filter { $0 > 1 }).named("inc")) | op.batch(4)
        let text = flow.mermaid
        #expect(text.contains("n1{{\"broadcast\"}}"))
        #expect(text.contains("n3{{\"route\"}}"))
        #expect(text.contains("n3 -- \"true\" --> n5"))
        #expect(text.contains("n3 -- \"false\" --> n4"))        // an empty branch goes straight to the merge
        #expect(text.contains("n4((\"merge\"))"))
        #expect(text.contains("subgraph g6 [\"inc: group\"]"))
        #expect(text.contains("n9[\"batch<br/>sequential\"]"))

        let p = Pipeline.merge(Pipeline([1]), Pipeline([2]) | op.map { $0 * 2 }) | op.map { $0 + 1 }
        #expect(p.mermaid == """
            flowchart LR
              source([source])
              source2([source])
              n3["map"]
              source2 --> n3
              fanin1{{"merge"}}
              source -- "1" --> fanin1
              n3 -- "2" --> fanin1
              n4["map"]
              fanin1 --> n4
              output([output])
              n4 --> output

            """)
    }

    @Test func theSameGraphInDOT() {
        let flow = op.map { (x: Int) in x }.workers(4).retry(.attempts(2)).named("say \"hi\"")
            | op.route(by: { $0 > 0 }, [true: op.map { $0 }], default: Flow())
        #expect(flow.dot == """
            digraph flow {
              rankdir=LR;
              node [fontname="Helvetica", fontsize=11];
              input [label="input", shape=oval];
              n1 [label="say \\"hi\\": map\\nworkers 4 · ordered\\nretry ×2", shape=box];
              input -> n1;
              n2 [label="route", shape=hexagon];
              n1 -> n2;
              n4 [label="map", shape=box];
              n2 -> n4 [label="true"];
              n4 -> n3;
              n2 -> n3 [label="default"];
              n3 [label="merge", shape=circle];
              output [label="output", shape=oval];
              n3 -> output;
            }

            """)
        let p = Pipeline.zip(Pipeline([1]), Pipeline(["a"])) | op.map { "\($0.0)\($0.1)" }
        #expect(p.dot.contains("fanin1 [label=\"zip\", shape=hexagon];"))
        #expect(p.dot.contains("source2 [label=\"source\", shape=oval];"))
        #expect(Pipeline.concat(Pipeline([1])).mermaid.contains("fanin1{{\"concat\"}}"))
    }
}
