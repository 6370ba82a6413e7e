import ClusterRegistry

/// The registry kept current from what the API source has seen (plus `--zones`): each load
/// drains the store's queued changes into the `SegmentedRegistry` and publishes the result.
/// Until every resource has been listed once the snapshot is marked unsynced, so cluster names
/// get SERVFAIL, not a false NXDOMAIN; the first lists only fill the object store, and one full
/// build (on both cores) follows them. After that every burst is applied incrementally.
public struct KubernetesRegistrySource: RegistrySource {
    public let store: ClusterObjectStore
    public let configuration: RegistryConfiguration
    private var zoneCache: ZoneDirectoryCache
    public private(set) var registry: SegmentedRegistry
    private var published = false

    public init(store: ClusterObjectStore, zones: String?, configuration: RegistryConfiguration) {
        self.store = store
        self.configuration = configuration
        zoneCache = ZoneDirectoryCache(directory: zones)
        registry = SegmentedRegistry(
            configuration: configuration, serial: SnapshotBuilder.wallClockSerial(), clusterSynced: false)
    }

    public var watchedDirectories: [String] { [zoneCache.directory].compactMap { $0 } }

    /// Objects the registry holds: a relist must not double them.
    public var objectCount: Int { registry.objects.count }

    public mutating func load(force: Bool) -> RegistryLoadOutcome {
        let zonesChanged = zoneCache.refresh(force: force)
        let staticZones: [ZoneModel]
        switch zoneCache.models {
        case .success(let models): staticZones = models
        case .failure(let error): return .failed(.zoneFile(error))
        }
        let started = MonotonicClock.seconds()
        let (queued, synced) = store.drain()
        let (changes, times) = Self.changes(from: queued, against: registry.objects)
        let serial = SegmentedRegistry.nextSerial(after: registry.serial)
        var diff = RegistryDiff()
        if !registry.clusterSynced {
            // Before the first full list nothing is served from the cluster zone: only store.
            registry.store(changes)
            guard synced || !published || zonesChanged || force else { return .unchanged }
            if synced { registry.clusterSynced = true }
            registry.replaceStaticZones(staticZones, serial: serial)
            diff = RegistryDiff(everythingIn: registry)
        } else {
            guard force || zonesChanged || !changes.isEmpty else { return .unchanged }
            diff = registry.apply(changes, serial: serial)
            if zonesChanged || force { registry.replaceStaticZones(staticZones, serial: registry.serial) }
            if diff.objectChanges == 0 && !zonesChanged && !force { return .unchanged }
        }
        published = true
        let count = changes.count
        let detail = registry.clusterSynced
            ? "\(count) API change\(count == 1 ? "" : "s")"
            : "waiting for the first API sync"
        return .loaded(LoadedRegistry(
            snapshot: registry.snapshot(buildSeconds: MonotonicClock.seconds() - started), diff: diff,
            sourceDetail: detail, changeTimes: times))
    }

    /// The queued changes as registry changes: a relist's end becomes the deletion of every
    /// key of that resource it did not name. Also collects when each change arrived and the
    /// trigger times of changed EndpointSlices.
    static func changes(
        from queued: [ClusterObjectStore.StoreChange], against objects: ClusterObjects
    ) -> ([ObjectChange], ChangeTimes) {
        var changes: [ObjectChange] = []
        var times = ChangeTimes()
        var listed: [ObjectKey: Bool] = [:]  // keys the queue itself adds (true) or deletes
        // Only a relist that names the keys it saw needs them; a first sync has none.
        let tracksListed = queued.contains { change in
            if case .relisted(_, .some) = change { return true } else { return false }
        }
        for change in queued {
            switch change {
            case .upsert(let key, let object, let received):
                changes.append(ObjectChange(key: key, object: object))
                if tracksListed { listed[key] = object != nil }
                times.received.append(received)
                if case .endpoints(let group)? = object, let trigger = group.lastChangeTriggerTime,
                   objects.isHeadlessWithSelector(group) {
                    times.triggered.append(trigger)
                }
            case .delete(let key, let received):
                changes.append(ObjectChange(key: key, object: nil))
                if tracksListed { listed[key] = false }
                times.received.append(received)
            case .relisted(let resource, let seen):
                guard let seen else { continue }  // a first list: nothing of it was stored before
                let prefix = resource.rawValue + "/"
                let stale = Set(objects.keys.filter { $0.origin.hasPrefix(prefix) && !seen.contains($0) })
                    .union(listed.compactMap { key, present in present && key.origin.hasPrefix(prefix) && !seen.contains(key) ? key : nil })
                for key in stale.sorted() { changes.append(ObjectChange(key: key, object: nil)) }
            }
        }
        return (changes, times)
    }
}
