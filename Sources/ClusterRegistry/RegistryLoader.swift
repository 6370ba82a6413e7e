import DNSWire

/// Reads a manifests directory and optional zone files and builds the snapshot: what `serve`,
/// `check` and `records` share.
public enum RegistryLoader {
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case manifests(ManifestLoadError)
        case zoneFile(ZoneFileError)

        public var description: String {
            switch self {
            case .manifests(let error): return error.description
            case .zoneFile(let error): return error.description
            }
        }
    }

    public static func load(
        manifests: String, zones: String?, configuration: RegistryConfiguration
    ) throws(Failure) -> SnapshotBuilder.Result {
        let objects: ManifestSet
        do {
            objects = try ManifestLoader.load(directory: manifests)
        } catch {
            throw .manifests(error)
        }
        var staticZones: [ZoneModel] = []
        if let zones {
            do {
                staticZones = try ZoneFileLoader.load(directory: zones)
            } catch {
                throw .zoneFile(error)
            }
        }
        return SnapshotBuilder.build(
            objects: objects.objects, staticZones: staticZones, configuration: configuration,
            skippedKinds: objects.skippedKinds)
    }
}

extension RegistryStatistics {
    /// `42 objects (Service 10, EndpointSlice 5; skipped Deployment 3), 120 records, 6 namespaces in 12 ms`
    public var summary: String {
        let total = objectsByKind.values.reduce(0, +)
        let kinds = objectsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let skipped = skippedKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let milliseconds = Int((buildSeconds * 1000).rounded())
        return "\(total) objects (\(kinds)\(skipped.isEmpty ? "" : "; skipped \(skipped)")), "
            + "\(records) records, \(names) names, \(namespaces) namespaces in \(milliseconds) ms"
    }
}
