#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension RegistryLoader {
    /// The manifests source of a server: parses only the documents that changed in the files
    /// whose stamp changed (`ManifestCache`) and applies their objects to the registry
    /// incrementally (DESIGN.md §4). Zone files are parsed again only when one of theirs
    /// changed, and then everything is built again. A load that finds nothing changed builds
    /// nothing; one with errors keeps the previous registry and retries the files later.
    ///
    /// Not thread-safe: one reloader owns it and calls it from one thread at a time.
    public struct Incremental: RegistrySource {
        public let manifests: String
        public let configuration: RegistryConfiguration
        private var cache = ManifestCache()
        private var zoneCache: ZoneDirectoryCache
        public private(set) var registry: SegmentedRegistry?
        /// Changes read but not yet applied: a load with errors applies nothing, and the next
        /// one that succeeds applies these first.
        private var pending: [ObjectChange] = []

        public typealias Outcome = RegistryLoadOutcome
        public typealias Loaded = LoadedRegistry

        public init(manifests: String, zones: String?, configuration: RegistryConfiguration) {
            self.manifests = manifests
            self.configuration = configuration
            zoneCache = ZoneDirectoryCache(directory: zones)
        }

        public var zones: String? { zoneCache.directory }

        public var watchedDirectories: [String] { [manifests] + [zones].compactMap { $0 } }

        /// Loads what changed and applies it. `force` parses every file again and publishes
        /// even when nothing seems to have changed (SIGHUP, and the first load).
        public mutating func load(force: Bool = false) -> Outcome {
            if force { cache.invalidate() }
            let started = MonotonicClock.seconds()
            let manifestLoad = cache.load(directory: manifests)
            let zonesChanged = zoneCache.refresh(force: force)
            // Assigned when nothing is pending (a start, every quiet reload): appending copied
            // every object (issue #9).
            if pending.isEmpty { pending = manifestLoad.changes } else { pending += manifestLoad.changes }
            guard force || manifestLoad.changed || zonesChanged || !pending.isEmpty else { return .unchanged }
            guard manifestLoad.errors.isEmpty else { return .failed(.manifests(ManifestLoadError(errors: manifestLoad.errors))) }
            let staticZones: [ZoneModel]
            switch zoneCache.models {
            case .success(let models): staticZones = models
            case .failure(let error): return .failed(.zoneFile(error))
            }
            let parseMilliseconds = Int(((MonotonicClock.seconds() - started) * 1000).rounded())
            let buildStarted = MonotonicClock.seconds()
            let changes = pending
            pending = []
            var diff = RegistryDiff()
            if var registry {
                // Taken out so that this copy is the only one: changing a shared copy would copy
                // every table (copy on write), the whole registry per change.
                self.registry = nil
                defer { self.registry = registry }
                diff = registry.apply(changes, serial: SegmentedRegistry.nextSerial(after: registry.serial))
                guard force || zonesChanged || diff.objectChanges > 0 else { return .unchanged }
                if zonesChanged { registry.replaceStaticZones(staticZones, serial: registry.serial) }
                registry.skippedKinds = manifestLoad.skippedKinds
            } else {
                var registry = SegmentedRegistry(
                    configuration: configuration, staticZones: staticZones, changes: changes,
                    serial: SnapshotBuilder.wallClockSerial())
                registry.skippedKinds = manifestLoad.skippedKinds
                diff = RegistryDiff(everythingIn: registry)
                self.registry = registry
            }
            let (files, documents) = (manifestLoad.parsedFiles, manifestLoad.parsedDocuments)
            guard let snapshot = registry?.snapshot(buildSeconds: MonotonicClock.seconds() - buildStarted) else {
                preconditionFailure("a registry was just stored")
            }
            return .loaded(Loaded(
                snapshot: snapshot, diff: diff,
                sourceDetail: "parsed \(documents) document\(documents == 1 ? "" : "s") of \(files) file\(files == 1 ? "" : "s") in \(parseMilliseconds) ms",
                changeTimes: ChangeTimes(received: Array(repeating: started, count: changes.isEmpty ? 0 : 1))))
        }

        /// The `*.zone` files `ZoneFileLoader.load(directory:)` reads, with their stamps; nil when
        /// the directory cannot be read (then loading reports why).
        static func zoneFileStamps(_ directory: String) -> [String: FileStamp]? {
            guard let dir = opendir(directory) else { return nil }
            defer { closedir(dir) }
            var stamps: [String: FileStamp] = [:]
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard name.hasSuffix(".zone"), !name.hasPrefix(".") else { continue }
                let path = directory + "/" + name
                stamps[path] = FileStamp.of(path) ?? FileStamp(device: 0, inode: 0, size: -1, modified: 0, changed: 0)
            }
            return stamps
        }
    }
}
