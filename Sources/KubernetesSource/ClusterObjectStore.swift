import ClusterRegistry
import NIOConcurrencyHelpers

/// The objects the API source has seen, keyed by resource and `namespace/name`: what a snapshot
/// is built from. Reflectors write it (a full list replaces a resource, a watch event one
/// object); the registry source reads it. Holds the minimal decoded objects only, never the
/// JSON (CoreDNS keeps stripped-down copies too).
public final class ClusterObjectStore: Sendable {
    public let resources: Set<KubernetesResource>
    private let state = NIOLockedValueBox(State())
    private let listener = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    struct State {
        var objects: [KubernetesResource: [String: KubernetesObject]] = [:]
        var synced: Set<KubernetesResource> = []
        /// Bumped by every change, so a build can tell whether anything happened since.
        var generation: UInt64 = 0
        var changesSinceRead = 0
    }

    /// What a build reads.
    public struct Contents: Sendable {
        public var objects: [KubernetesObject]
        /// Every resource has completed its first list.
        public var synced: Bool
        public var generation: UInt64
        /// Objects added, changed or removed since the previous read.
        public var changes: Int
    }

    public init(resources: [KubernetesResource]) {
        self.resources = Set(resources)
    }

    /// Called (on the reflector's task) after every change; the reloader's `noteChange`.
    public func onChange(_ callback: @escaping @Sendable () -> Void) {
        listener.withLockedValue { $0 = callback }
    }

    public var isSynced: Bool { state.withLockedValue { $0.synced.isSuperset(of: resources) } }

    public var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// A full list of `resource`: replaces what was there and marks it synced.
    func replaceAll(_ resource: KubernetesResource, with objects: [String: KubernetesObject]) {
        state.withLockedValue { state in
            let previous = state.objects[resource] ?? [:]
            state.changesSinceRead += Self.difference(previous, objects)
            state.objects[resource] = objects
            state.synced.insert(resource)
            state.generation &+= 1
        }
        notify()
    }

    /// One watch event: `object` nil deletes `key`. Returns whether anything changed (a
    /// MODIFIED that touches no DNS field, such as a status or annotation update, changes
    /// nothing and triggers no build).
    @discardableResult
    func apply(_ resource: KubernetesResource, key: String, object: KubernetesObject?) -> Bool {
        let changed = state.withLockedValue { state in
            let previous = state.objects[resource]?[key]
            guard previous != object else { return false }
            state.objects[resource, default: [:]][key] = object
            state.changesSinceRead += 1
            state.generation &+= 1
            return true
        }
        if changed { notify() }
        return changed
    }

    public func read() -> Contents {
        state.withLockedValue { state in
            defer { state.changesSinceRead = 0 }
            var objects: [KubernetesObject] = []
            objects.reserveCapacity(state.objects.values.reduce(0) { $0 + $1.count })
            // Namespaces first, then the rest, in a stable order: builds are deterministic.
            for resource in KubernetesResource.allCases {
                guard let byKey = state.objects[resource] else { continue }
                objects.append(contentsOf: byKey.keys.sorted().lazy.compactMap { byKey[$0] })
            }
            return Contents(
                objects: objects, synced: state.synced.isSuperset(of: resources), generation: state.generation,
                changes: state.changesSinceRead)
        }
    }

    private func notify() {
        listener.withLockedValue { $0 }?()
    }

    private static func difference(_ old: [String: KubernetesObject], _ new: [String: KubernetesObject]) -> Int {
        var count = 0
        for (key, object) in new where old[key] != object { count += 1 }
        for key in old.keys where new[key] == nil { count += 1 }
        return count
    }
}
