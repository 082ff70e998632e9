// `Filter`: the builder component for `op.filter`.
import SluiceExecutor

/// Keeps the items the predicate accepts (builder style; same stage as `op.filter`).
///
/// ```swift
/// Flow<Int, Int> { Filter { $0 > 0 } }
/// ```
public struct Filter<Element: Sendable>: FlowComponent {
    public let flow: Flow<Element, Element>

    @inlinable
    public init(_ isIncluded: @escaping @Sendable (Element) throws -> Bool) {
        flow = op.filter(isIncluded)
    }

    public init(_ isIncluded: @escaping @Sendable (Element) async throws -> Bool) {
        flow = op.filter(isIncluded)
    }
}
