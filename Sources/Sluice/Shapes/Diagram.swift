// `flow.mermaid` / `flow.dot` and `pipeline.mermaid` / `pipeline.dot`: a picture of any flow, for
// documentation and pull requests.
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
    public var mermaid: String { diagram(.mermaid) }

    /// The flow as a Graphviz DOT graph, with what ``mermaid`` shows (`dot -Tsvg` renders it).
    ///
    /// ```swift
    /// print((op.map { (x: Int) in x }.workers(4) | op.filter { $0 > 0 }).dot)
    /// // digraph flow {
    /// //   rankdir=LR;
    /// //   …
    /// ```
    public var dot: String { diagram(.dot) }

    func diagram(_ syntax: Diagram.Syntax) -> String {
        var diagram = Diagram(syntax)
        diagram.terminal("input")
        let last = diagram.chain(nodes, from: "input")
        diagram.terminal("output")
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
    public var mermaid: String { diagram(.mermaid) }

    /// The pipeline as a Graphviz DOT graph, with what ``mermaid`` shows.
    ///
    /// ```swift
    /// print(Pipeline.concat(Pipeline(a), Pipeline(b)).dot)
    /// ```
    public var dot: String { diagram(.dot) }

    func diagram(_ syntax: Diagram.Syntax) -> String {
        var diagram = Diagram(syntax)
        let start = diagram.source(source)
        let last = diagram.chain(nodes, from: start)
        diagram.terminal("output")
        diagram.edge(last.id, "output", label: last.label)
        return diagram.text
    }
}

/// Builds the text of a diagram, left to right, in Mermaid or DOT.
struct Diagram {
    enum Syntax { case mermaid, dot }

    let syntax: Syntax
    private var lines: [String]
    private var count = 0
    private var indent = "  "
    private var sourceDrawn = false

    init(_ syntax: Syntax) {
        self.syntax = syntax
        lines = syntax == .mermaid ? ["flowchart LR"] : ["digraph flow {", "  rankdir=LR;", "  node [fontname=\"Helvetica\", fontsize=11];"]
    }

    var text: String { (lines + (syntax == .dot ? ["}"] : [])).joined(separator: "\n") + "\n" }

    private mutating func add(_ line: String) { lines.append(indent + line) }

    private mutating func newID(_ prefix: String = "n") -> String {
        count += 1
        return "\(prefix)\(count)"
    }

    // MARK: shapes, in either syntax

    /// `input`, `output`, a source: a rounded terminal whose id is its label.
    mutating func terminal(_ id: String, label: String? = nil) {
        switch syntax {
        case .mermaid: add("\(id)([\(label ?? id)])")
        case .dot: add("\(id) [label=\(quoted(label ?? id)), shape=oval];")
        }
    }

    private mutating func node(_ id: String, _ label: String, mermaid: (String, String), dot shape: String) {
        switch syntax {
        case .mermaid: add("\(id)\(mermaid.0)\(quoted(label))\(mermaid.1)")
        case .dot: add("\(id) [label=\(quoted(label)), shape=\(shape)];")
        }
    }

    mutating func edge(_ from: String, _ to: String, label: String? = nil) {
        switch (syntax, label) {
        case (.mermaid, let label?): add("\(from) -- \(quoted(label)) --> \(to)")
        case (.mermaid, nil): add("\(from) --> \(to)")
        case (.dot, let label?): add("\(from) -> \(to) [label=\(quoted(label))];")
        case (.dot, nil): add("\(from) -> \(to);")
        }
    }

    /// Draws a source (a fan-in source with its inputs); returns the id the stages start from.
    mutating func source(_ source: any SourceBody) -> String {
        guard let fanIn = source as? any DrivingSource else {
            // The sources of a fan-in's inputs are numbered: `source`, `source2`, …
            let id = sourceDrawn ? newID("source") : "source"
            sourceDrawn = true
            terminal(id, label: "source")
            return id
        }
        let join = newID("fanin")
        var ends: [(id: String, label: String?)] = []
        for (i, input) in fanIn.inputs.enumerated() {
            let start = self.source(input.source)
            let last = chain(input.nodes, from: start)
            ends.append((last.id, last.label ?? "\(i + 1)"))
        }
        node(join, fanIn.shapeName, mermaid: ("{{", "}}"), dot: "hexagon")
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
            self.node(fork, Self.label(node, syntax), mermaid: ("{{", "}}"), dot: "hexagon")
            edge(from, fork, label: label)
            for branch in node.children {
                let end = chain(branch.children, from: fork, label: branch.name)
                edge(end.id, join, label: end.label)
            }
            self.node(join, "merge", mermaid: ("((", "))"), dot: "circle")
            return join
        case .group where !node.children.isEmpty:
            let group = newID("g")
            switch syntax {
            case .mermaid: add("subgraph \(group) [\(quoted(Self.label(node, syntax)))]")
            case .dot: add("subgraph cluster_\(group) { label=\(quoted(Self.label(node, syntax)));")
            }
            indent += "  "
            let end = chain(node.children, from: from, label: label)
            indent.removeLast(2)
            add(syntax == .mermaid ? "end" : "}")
            return end.id
        default:
            let id = newID()
            self.node(id, Self.label(node, syntax), mermaid: ("[", "]"), dot: "box")
            edge(from, id, label: label)
            if node.kind == .expand { edge(id, id, label: "successors") }
            return id
        }
    }

    /// `name: kind`, then options, then policies, one line each.
    static func label(_ node: StageNode, _ syntax: Syntax) -> String {
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
        return lines.joined(separator: syntax == .mermaid ? "<br/>" : "\\n")
    }

    /// A quoted label, with its double quotes escaped (`#quot;` in Mermaid, `\"` in DOT).
    func quoted(_ text: String) -> String {
        let escape = syntax == .mermaid ? "#quot;" : "\\\""
        return "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: escape) + "\""
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
