import ClusterRegistry
import NIOConcurrencyHelpers

/// The snapshot currently served. Readers take the reference once per query; a reload swaps it
/// whole, so a query never sees half a registry (DESIGN.md §4).
public final class RegistryStore: Sendable {
    private let current: NIOLockedValueBox<RegistrySnapshot>

    public init(_ snapshot: RegistrySnapshot) {
        current = NIOLockedValueBox(snapshot)
    }

    public var snapshot: RegistrySnapshot { current.withLockedValue { $0 } }

    public func replace(with snapshot: RegistrySnapshot) {
        current.withLockedValue { $0 = snapshot }
    }
}
