import ClusterRegistry
import NIOConcurrencyHelpers

/// What the reflectors have seen and the registry has not applied yet: a queue of changes, not
/// a copy of the objects (the registry holds the one copy, DESIGN.md §4). Reflectors append
/// (a list page, a watch event, the end of a relist); the registry source drains the queue
/// into its `SegmentedRegistry`, which also drops changes that change nothing, such as a
/// MODIFIED event for a status or annotation update.
public final class ClusterObjectStore: Sendable {
    public let resources: Set<KubernetesResource>
    private let state = NIOLockedValueBox(State())
    private let listener = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    struct State {
        var pending: [StoreChange] = []
        var synced: Set<KubernetesResource> = []
        /// Resources any object of which was ever queued (by a list page or an event).
        var received: Set<KubernetesResource> = []
    }

    /// One queued change, with the monotonic time it arrived (for the programming latency).
    public enum StoreChange: Sendable, Equatable {
        /// An object added or modified; nil when its new version does not decode (or means
        /// nothing to DNS), which removes what the key held.
        case upsert(ObjectKey, KubernetesObject?, receivedAt: Double)
        case delete(ObjectKey, receivedAt: Double)
        /// A full list of `resource` ended: every key of it that the list did not name is gone.
        /// `seen` is nil for a first list, begun before any object of the resource was queued:
        /// nothing of it can be stale, and at 100k objects the keys cost a tenth of a second to
        /// gather and as much again to compare (issue #9).
        case relisted(KubernetesResource, seen: Set<ObjectKey>?)
    }

    public init(resources: [KubernetesResource]) {
        self.resources = Set(resources)
    }

    /// Called (on the reflector's task) after every change; the reloader's `noteChange`.
    public func onChange(_ callback: @escaping @Sendable () -> Void) {
        listener.withLockedValue { $0 = callback }
    }

    /// Every resource has completed its first list.
    public var isSynced: Bool { state.withLockedValue { $0.synced.isSuperset(of: resources) } }

    /// The registry key of an API object: its resource and `namespace/name` (the resource's
    /// short name, not its path: 200k keys are stored).
    public static func key(_ resource: KubernetesResource, _ name: String) -> ObjectKey {
        ObjectKey(origin: resource.rawValue + "/" + name)
    }

    /// One list page's objects, in the page's order (a relist's pages land as they come:
    /// nothing is held aside).
    func upsert(_ resource: KubernetesResource, _ objects: ListPage.Items, receivedAt: Double) {
        guard !objects.isEmpty else { return }
        state.withLockedValue { _ = $0.received.insert(resource) }
        enqueue(objects.entries.map { .upsert(Self.key(resource, $0.key), $0.object, receivedAt: receivedAt) })
    }

    /// A full list of `resource` ended: marks it synced and drops what it no longer holds.
    func listCompleted(_ resource: KubernetesResource, seen: Set<String>?) {
        let keys = seen.map { Set($0.map { Self.key(resource, $0) }) }
        state.withLockedValue { state in
            state.pending.append(.relisted(resource, seen: keys))
            state.synced.insert(resource)
        }
        notify()
    }

    /// Whether any object of `resource` was ever queued: until then a list has nothing to
    /// find stale.
    func hasReceived(_ resource: KubernetesResource) -> Bool {
        state.withLockedValue { $0.received.contains(resource) }
    }

    /// One watch event: `object` nil deletes `key`.
    func apply(_ resource: KubernetesResource, key: String, object: KubernetesObject?, deleted: Bool, receivedAt: Double) {
        state.withLockedValue { _ = $0.received.insert(resource) }
        let objectKey = Self.key(resource, key)
        enqueue([deleted ? .delete(objectKey, receivedAt: receivedAt) : .upsert(objectKey, object, receivedAt: receivedAt)])
    }

    /// Takes every queued change, oldest first. `synced` is read in the same step, so a
    /// drain that reports synced holds every change of the first lists.
    public func drain() -> (changes: [StoreChange], synced: Bool) {
        state.withLockedValue { state in
            defer { state.pending = [] }
            return (state.pending, state.synced.isSuperset(of: resources))
        }
    }

    private func enqueue(_ changes: [StoreChange]) {
        state.withLockedValue { $0.pending += changes }
        notify()
    }

    private func notify() {
        listener.withLockedValue { $0 }?()
    }
}
