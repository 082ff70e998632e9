// `flow.mermaid` and `pipeline.mermaid`: a picture of any flow, for documentation and pull requests.
import SluiceExecutor

extension Flow {
    /// The flow as a Mermaid flowchart: every stage with its name, kind, workers, buffer, order and
    /// policies (retry, timeout, middleware, hooks, blocking pool), and the branches and merges of
    /// the graph shapes. Paste it into a ` ```mermaid ` block of a README or a pull request.
    ///
    /// ```swift
    /// let flow = op.map(fetch).workers(8).retry(.attempts(3)).named("fetch") | op.filter(isValid)
    /// print(flow.mermaid)
    /// // flowchart LR
    /// //   input([input])
    /// //   n1["fetch: map<br/>workers 8 · ordered<br/>retry ×3"]
    /// //   …
    /// ```
    public var mermaid: String {
        var diagram = MermaidDiagram()
        diagram.add("input([input])")
        let last = diagram.chain(nodes, from: "input")
        diagram.add("output([output])")
        diagram.edge(last.id, "output", label: last.label)
        return diagram.text
    }
}

extension Pipeline {
    /// The pipeline as a Mermaid flowchart: its source (the inputs of a merge, concat or zip,
    /// each with its own stages) and every stage, as ``Flow/mermaid`` draws them.
    ///
    /// ```swift
    /// let p = Pipeline.merge(Pipeline(a), Pipeline(b) | op.map { $0 * 2 }) | op.filter { $0 > 0 }
    /// print(p.mermaid)
    /// ```
    public var mermaid: String {
        var diagram = MermaidDiagram()
        let start = diagram.source(source)
        let last = diagram.chain(nodes, from: start)
        diagram.add("output([output])")
        diagram.edge(last.id, "output", label: last.label)
        return diagram.text
    }
}

/// Builds the text of a Mermaid flowchart, left to right.
struct MermaidDiagram {
    private var lines = ["flowchart LR"]
    private var count = 0
    private var indent = "  "

    var text: String { lines.joined(separator: "\n") + "\n" }

    mutating func add(_ line: String) { lines.append(indent + line) }

    private mutating func newID(_ prefix: String = "n") -> String {
        count += 1
        return "\(prefix)\(count)"
    }

    mutating func edge(_ from: String, _ to: String, label: String? = nil) {
        if let label { add("\(from) -- \(Self.quoted(label)) --> \(to)") } else { add("\(from) --> \(to)") }
    }

    /// Draws a source (a fan-in source with its inputs); returns the id the stages start from.
    mutating func source(_ source: any SourceBody) -> String {
        guard let fanIn = source as? any DrivingSource else {
            // The sources of a fan-in's inputs are numbered: `source`, `source2`, …
            let id = lines.contains { $0.hasSuffix("source([source])") } ? newID("source") : "source"
            add("\(id)([source])")
            return id
        }
        let join = newID("fanin")
        var ends: [(id: String, label: String?)] = []
        for (i, input) in fanIn.inputs.enumerated() {
            let start = self.source(input.source)
            let last = chain(input.nodes, from: start)
            ends.append((last.id, last.label ?? "\(i + 1)"))
        }
        add("\(join){{\(Self.quoted(fanIn.shapeName))}}")
        for end in ends { edge(end.id, join, label: end.label) }
        return join
    }

    /// Draws `nodes` one after the other from `from`. Returns the last id, and the label the edge
    /// out of it must carry (a branch with no stages passes its label on).
    mutating func chain(_ nodes: [StageNode], from: String, label: String? = nil) -> (id: String, label: String?) {
        var previous = from, pending = label
        for node in nodes {
            previous = stage(node, from: previous, label: pending)
            pending = nil
        }
        return (previous, pending)
    }

    private mutating func stage(_ node: StageNode, from: String, label: String?) -> String {
        switch node.kind {
        case .broadcast, .route:
            let fork = newID(), join = newID()
            add("\(fork){{\(Self.quoted(Self.label(node)))}}")
            edge(from, fork, label: label)
            for branch in node.children {
                let end = chain(branch.children, from: fork, label: branch.name)
                edge(end.id, join, label: end.label)
            }
            add("\(join)((\(Self.quoted("merge"))))")
            return join
        case .group where !node.children.isEmpty:
            let group = newID("g")
            add("subgraph \(group) [\(Self.quoted(Self.label(node)))]")
            indent += "  "
            let end = chain(node.children, from: from, label: label)
            indent.removeLast(2)
            add("end")
            return end.id
        default:
            let id = newID()
            add("\(id)[\(Self.quoted(Self.label(node)))]")
            edge(from, id, label: label)
            if node.kind == .expand { edge(id, id, label: "successors") }
            return id
        }
    }

    /// `name: kind`, then options, then policies, one line each.
    static func label(_ node: StageNode) -> String {
        var title = node.name == node.kind.rawValue ? node.kind.rawValue : "\(node.name): \(node.kind.rawValue)"
        if node.kind == .partitioned, let inner = node.children.first {
            title = "\(inner.name == inner.kind.rawValue ? inner.kind.rawValue : "\(inner.name): \(inner.kind.rawValue)") · partitioned"
        }
        var options: [String] = []
        let workers = node.options.workers ?? 1
        if workers != 1 { options.append("workers \(workers)") }
        if let buffer = node.options.buffer {
            options.append(buffer == Int.max ? "buffer unbounded" : buffer == 0 ? "buffer 0 (rendezvous)" : "buffer \(buffer)")
        }
        switch node.kind {
        case .partitioned: options.append("order per key")
        case .expand: options.append("completion order")
        default:
            if !node.options.ordered { options.append("unordered") } else if workers > 1 { options.append("ordered") }
        }
        if node.isSequential && node.kind != .group { options.append("sequential") }
        var lines = [title]
        if !options.isEmpty { lines.append(options.joined(separator: " · ")) }
        // A partitioned stage's policies wrap the stage it runs on each item.
        let wrapped = node.kind == .partitioned ? node.children.first ?? node : node
        var policies = (wrapped.body as? any PolicyDescribing)?.policyNames ?? []
        if let pool = node.executorPreference as? BlockingPool {
            policies.append("blocking pool (\(pool.threads) threads)")
        } else if node.executorPreference != nil {
            policies.append("task executor")
        }
        if !policies.isEmpty { lines.append(policies.joined(separator: " · ")) }
        return lines.joined(separator: "<br/>")
    }

    /// A Mermaid string: in double quotes, with quotes escaped.
    static func quoted(_ text: String) -> String {
        "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "#quot;") + "\""
    }
}

/// A body that can name the policies wrapped around a stage.
protocol PolicyDescribing {
    var policyNames: [String] { get }
}

extension PolicyBody: PolicyDescribing {
    var policyNames: [String] {
        layers.map(\.name) + (observers.isEmpty ? [] : ["observe"])
    }
}
