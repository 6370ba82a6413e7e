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
    public struct Incremental: Sendable {
        public let manifests: String
        public let zones: String?
        public let configuration: RegistryConfiguration
        private var cache = ManifestCache()
        private var zoneStamps: [String: FileStamp]?
        private var zoneModels: Result<[ZoneModel], ZoneFileError> = .success([])

        /// A successful load: the snapshot and what it was built from.
        public struct Loaded: Sendable {
            public var result: SnapshotBuilder.Result
            public var objects: [KubernetesObject]
            /// Manifest files parsed for this load (the rest came from the cache).
            public var parsedFiles: Int
            /// Seconds spent reading and parsing files (the build's own time is in the statistics).
            public var parseSeconds: Double
        }

        public enum Outcome: Sendable {
            /// No file changed since the previous load (nothing was built).
            case unchanged
            case loaded(Loaded)
            case failed(Failure)
        }

        public init(manifests: String, zones: String?, configuration: RegistryConfiguration) {
            self.manifests = manifests
            self.zones = zones
            self.configuration = configuration
        }

        /// Loads what changed and builds a snapshot. `force` parses every file again and builds
        /// even when nothing seems to have changed (SIGHUP, and the first load).
        public mutating func load(force: Bool = false) -> Outcome {
            if force { cache.invalidate() }
            let started = SnapshotBuilder.monotonicSeconds()
            let manifestLoad = cache.load(directory: manifests)
            let zonesChanged = reloadZonesIfChanged(force: force)
            guard force || manifestLoad.changed || zonesChanged else { return .unchanged }
            let set: ManifestSet
            switch manifestLoad.result {
            case .success(let loaded): set = loaded
            case .failure(let error): return .failed(.manifests(error))
            }
            let staticZones: [ZoneModel]
            switch zoneModels {
            case .success(let models): staticZones = models
            case .failure(let error): return .failed(.zoneFile(error))
            }
            let parseSeconds = SnapshotBuilder.monotonicSeconds() - started
            let result = SnapshotBuilder.build(
                objects: set.objects, staticZones: staticZones, configuration: configuration,
                skippedKinds: set.skippedKinds)
            return .loaded(Loaded(
                result: result, objects: set.objects, parsedFiles: manifestLoad.parsedFiles, parseSeconds: parseSeconds))
        }

        /// Parses the zone files again when any `*.zone` file was added, removed or changed.
        private mutating func reloadZonesIfChanged(force: Bool) -> Bool {
            guard let zones else { return false }
            let stamps = Self.zoneFileStamps(zones)
            guard force || stamps != zoneStamps else { return false }
            zoneStamps = stamps
            zoneModels = Result { () throws(ZoneFileError) in try ZoneFileLoader.load(directory: zones) }
            return true
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
