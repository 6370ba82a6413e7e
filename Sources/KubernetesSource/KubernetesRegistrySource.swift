import ClusterRegistry

/// The registry built from what the API source has seen (plus `--zones`): what the reloader
/// asks for whenever the store reports a change. Until every resource has been listed once the
/// snapshot is marked unsynced, so cluster names get SERVFAIL, not a false NXDOMAIN.
public struct KubernetesRegistrySource: RegistrySource {
    public let store: ClusterObjectStore
    public let configuration: RegistryConfiguration
    private var zoneCache: ZoneDirectoryCache
    private var builtGeneration: UInt64?

    public init(store: ClusterObjectStore, zones: String?, configuration: RegistryConfiguration) {
        self.store = store
        self.configuration = configuration
        zoneCache = ZoneDirectoryCache(directory: zones)
    }

    public var watchedDirectories: [String] { [zoneCache.directory].compactMap { $0 } }

    public mutating func load(force: Bool) -> RegistryLoadOutcome {
        let zonesChanged = zoneCache.refresh(force: force)
        guard force || zonesChanged || store.generation != builtGeneration else { return .unchanged }
        let staticZones: [ZoneModel]
        switch zoneCache.models {
        case .success(let models): staticZones = models
        case .failure(let error): return .failed(.zoneFile(error))
        }
        let contents = store.read()
        builtGeneration = contents.generation
        let result = SnapshotBuilder.build(
            objects: contents.objects, staticZones: staticZones, configuration: configuration,
            clusterSynced: contents.synced)
        let detail = contents.synced
            ? "\(contents.changes) API change\(contents.changes == 1 ? "" : "s")"
            : "waiting for the first API sync"
        return .loaded(LoadedRegistry(result: result, objects: contents.objects, sourceDetail: detail))
    }
}
