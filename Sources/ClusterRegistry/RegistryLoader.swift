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

    /// Loads the directories once, exactly as a server's first load does (`check`, `records`).
    public static func load(
        manifests: String, zones: String?, configuration: RegistryConfiguration
    ) throws(Failure) -> SnapshotBuilder.Result {
        var loader = Incremental(manifests: manifests, zones: zones, configuration: configuration)
        switch loader.load(force: true) {
        case .loaded(let loaded):
            guard let registry = loader.registry else { preconditionFailure("a load that succeeds keeps its registry") }
            return SnapshotBuilder.Result(snapshot: loaded.snapshot, registry: registry)
        case .failed(let failure): throw failure
        case .unchanged: preconditionFailure("a forced load always loads or fails")
        }
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
