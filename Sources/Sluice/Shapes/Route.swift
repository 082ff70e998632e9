// `op.route` and `Route`: each item into the one branch its key selects, outputs merged.
import SluiceExecutor

extension op {
    /// Sends each item to the one branch its key selects and merges the branches' outputs.
    ///
    /// ```swift
    /// let thumbnails: Flow<Media, Thumbnail> = op.route(by: \.kind, [
    ///     .image: op.map(resize),
    ///     .video: op.map(firstFrame) | op.map(resize),
    /// ], default: op.map(placeholder)).workers(8)
    /// ```
    ///
    /// Outputs keep input order across branches (`.unordered()`: completion order); `.workers(n)`
    /// puts `n` items into the branches at once. An item whose key has no branch goes to
    /// `default`, or fails the run with a ``RouteError`` when there is none. For a predicate, route
    /// by a `Bool`: `op.route(by: isLarge, [true: big, false: small])`.
    ///
    /// - Parameters:
    ///   - key: The item's key; called once per item.
    ///   - branches: A branch per key, in the order they are described and drawn.
    ///   - fallback: The branch for keys not listed (`nil`: such an item fails the run).
    /// - Returns: A one-stage flow of kind `route`.
    public static func route<A, B, K: Hashable & Sendable>(
        by key: @escaping @Sendable (A) -> K, _ branches: KeyValuePairs<K, Flow<A, B>>, default fallback: Flow<A, B>? = nil
    ) -> Flow<A, B> {
        routeFlow(key, branches.map { ($0.key, $0.value) }, fallback: fallback)
    }
}

/// Sends each item to the one branch its key selects (builder style; same stage as `op.route`).
///
/// ```swift
/// Flow<Media, Thumbnail> {
///     Route(by: \.kind) {
///         When(.image) { Map(resize) }
///         When(.video) { Map(firstFrame); Map(resize) }
///         Otherwise { Map(placeholder) }
///     }.workers(8)
/// }
/// ```
public struct Route<Input: Sendable, Output: Sendable>: FlowComponent {
    /// The one-stage flow this component stands for.
    public let flow: Flow<Input, Output>

    /// A route by `key` to the branches listed, one `When` (and at most one `Otherwise`) per statement.
    ///
    /// ```swift
    /// Route(by: { (n: Int) in n % 2 == 0 }) {
    ///     When(true) { Map { (n: Int) in n / 2 } }
    ///     When(false) { Map { (n: Int) in 3 * n + 1 } }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - key: The item's key; called once per item.
    ///   - cases: The branches; an item whose key no `When` lists goes to `Otherwise`, or fails the
    ///     run with a ``RouteError`` when there is none.
    public init<K: Hashable & Sendable>(by key: @escaping @Sendable (Input) -> K, @RouteBuilder<K, Input, Output> _ cases: () -> [RouteCase<K, Input, Output>]) {
        var keyed: [(K, Flow<Input, Output>)] = []
        var fallback: Flow<Input, Output>?
        for c in cases() {
            if let k = c.key { keyed.append((k, c.flow)) } else {
                require(fallback == nil, "route has more than one Otherwise, got 2 (stage 'route')")
                fallback = c.flow
            }
        }
        flow = routeFlow(key, keyed, fallback: fallback)
    }
}

/// One branch of a `Route`, as its builder collects them: a `When` or the `Otherwise`.
///
/// ```swift
/// let cases = RouteBuilder<Bool, Int, Int>.buildExpression(When(true) { Map { $0 / 2 } })
/// cases[0].key   // true
/// ```
public struct RouteCase<Key: Hashable & Sendable, Input: Sendable, Output: Sendable>: Sendable {
    /// The key this branch takes (`nil`: every key no other branch takes).
    public var key: Key?
    /// The branch.
    public var flow: Flow<Input, Output>
}

/// The branch of a `Route` for one key.
///
/// ```swift
/// When(.video) { Map(firstFrame); Map(resize) }
/// ```
public struct When<Key: Hashable & Sendable, Input: Sendable, Output: Sendable>: Sendable {
    /// The key whose items take this branch.
    public var key: Key
    /// The branch.
    public var flow: Flow<Input, Output>

    /// The branch for `key`.
    ///
    /// ```swift
    /// When(true) { Map { (n: Int) in n / 2 } }
    /// ```
    ///
    /// - Parameters:
    ///   - key: The key whose items take this branch.
    ///   - branch: The branch's stages.
    public init(_ key: Key, @FlowBuilder<Input> _ branch: () -> Flow<Input, Output>) {
        self.key = key
        self.flow = branch()
    }
}

/// The branch of a `Route` for every key no `When` lists.
///
/// ```swift
/// Otherwise { Map(placeholder) }
/// ```
public struct Otherwise<Input: Sendable, Output: Sendable>: Sendable {
    /// The branch.
    public var flow: Flow<Input, Output>

    /// The branch for keys no `When` lists.
    ///
    /// ```swift
    /// Otherwise { Map { (n: Int) in -n } }
    /// ```
    ///
    /// - Parameter branch: The branch's stages.
    public init(@FlowBuilder<Input> _ branch: () -> Flow<Input, Output>) {
        self.flow = branch()
    }
}

/// Collects the branches of a `Route`, one `When`/`Otherwise` per statement.
///
/// ```swift
/// Route(by: \Media.kind) {
///     When(.image) { Map(resize) }
///     Otherwise { Map(placeholder) }
/// }
/// ```
@resultBuilder
public enum RouteBuilder<Key: Hashable & Sendable, Input: Sendable, Output: Sendable> {
    /// A branch for one key.
    public static func buildExpression(_ branch: When<Key, Input, Output>) -> [RouteCase<Key, Input, Output>] {
        [RouteCase(key: branch.key, flow: branch.flow)]
    }
    /// The branch for the other keys.
    public static func buildExpression(_ branch: Otherwise<Input, Output>) -> [RouteCase<Key, Input, Output>] {
        [RouteCase(key: nil, flow: branch.flow)]
    }
    /// The branches, in order.
    public static func buildBlock(_ cases: [RouteCase<Key, Input, Output>]...) -> [RouteCase<Key, Input, Output>] { cases.flatMap { $0 } }
    /// Branches made in a `for` loop.
    public static func buildArray(_ cases: [[RouteCase<Key, Input, Output>]]) -> [RouteCase<Key, Input, Output>] { cases.flatMap { $0 } }
}

/// The route stage both front ends build.
func routeFlow<A, B, K: Hashable & Sendable>(_ key: @escaping @Sendable (A) -> K, _ branches: [(K, Flow<A, B>)], fallback: Flow<A, B>?) -> Flow<A, B> {
    require(!branches.isEmpty || fallback != nil, "route needs at least one branch, got 0 (stage 'route')")
    var index: [K: Int] = [:]
    for (i, (k, _)) in branches.enumerated() {
        require(index[k] == nil, "route lists key \(k) twice (stage 'route')")
        index[k] = i
    }
    let flows = branches.map(\.1) + (fallback.map { [$0] } ?? [])
    let labels = branches.map { "\($0.0)" } + (fallback == nil ? [] : ["default"])
    let fallbackIndex = fallback == nil ? nil : branches.count
    let table = index
    return Flow.branching(.route, flows, labels: labels,
                          select: { x in table[key(x)] ?? fallbackIndex },
                          describeKey: { x in "\(key(x))" })
}
