#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension RegistryLoader {
    /// `RegistryLoader.load` for a server that loads the same directories again and again: manifest
    /// files are parsed only when their stamp changed (`ManifestCache`), zone files only when one
    /// of theirs did, and a load that finds nothing changed builds nothing (DESIGN.md §4).
    ///
    /// Not thread-safe: one reloader owns it and calls it from one thread at a time.
    public struct Incremental: RegistrySource {
        public let manifests: String
        public let configuration: RegistryConfiguration
        private var cache = ManifestCache()
        private var zoneCache: ZoneDirectoryCache

        public typealias Outcome = RegistryLoadOutcome
        public typealias Loaded = LoadedRegistry

        public init(manifests: String, zones: String?, configuration: RegistryConfiguration) {
            self.manifests = manifests
            self.configuration = configuration
            zoneCache = ZoneDirectoryCache(directory: zones)
        }

        public var zones: String? { zoneCache.directory }

        public var watchedDirectories: [String] { [manifests] + [zones].compactMap { $0 } }

        /// Loads what changed and builds a snapshot. `force` parses every file again and builds
        /// even when nothing seems to have changed (SIGHUP, and the first load).
        public mutating func load(force: Bool = false) -> Outcome {
            if force { cache.invalidate() }
            let started = SnapshotBuilder.monotonicSeconds()
            let manifestLoad = cache.load(directory: manifests)
            let zonesChanged = zoneCache.refresh(force: force)
            guard force || manifestLoad.changed || zonesChanged else { return .unchanged }
            let set: ManifestSet
            switch manifestLoad.result {
            case .success(let loaded): set = loaded
            case .failure(let error): return .failed(.manifests(error))
            }
            let staticZones: [ZoneModel]
            switch zoneCache.models {
            case .success(let models): staticZones = models
            case .failure(let error): return .failed(.zoneFile(error))
            }
            let parseMilliseconds = Int(((SnapshotBuilder.monotonicSeconds() - started) * 1000).rounded())
            let result = SnapshotBuilder.build(
                objects: set.objects, staticZones: staticZones, configuration: configuration,
                skippedKinds: set.skippedKinds)
            let files = manifestLoad.parsedFiles
            return .loaded(Loaded(
                result: result, objects: set.objects,
                sourceDetail: "parsed \(files) file\(files == 1 ? "" : "s") in \(parseMilliseconds) ms"))
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
