import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds an immutable `RegistrySnapshot` from objects and zone files. Pure apart from reading
/// the clock for the SOA serial and the build time.
public enum SnapshotBuilder {
    public struct Result: Sendable {
        public var snapshot: RegistrySnapshot
        /// The zones in presentation-ready form (for `clusterdns records`).
        public var zones: [ZoneModel]
    }

    public static func build(
        objects: [KubernetesObject], staticZones: [ZoneModel], configuration: RegistryConfiguration,
        serial: UInt32? = nil, skippedKinds: [String: Int] = [:], clusterSynced: Bool = true
    ) -> Result {
        let started = monotonicSeconds()
        let serial = serial ?? UInt32(truncatingIfNeeded: time(nil))
        let cluster = ClusterRecordsBuilder.build(objects: objects, configuration: configuration, serial: serial)
        let zones = cluster.zones + staticZones
        var compiler = SnapshotCompiler(zones: zones, configuration: configuration)
        compiler.compile()
        var statistics = RegistryStatistics()
        for object in objects { statistics.objectsByKind[object.kindName, default: 0] += 1 }
        statistics.skippedKinds = skippedKinds
        statistics.namespaces = Set(objects.map(\.namespaceName).filter(configuration.exposes)).count
        statistics.names = compiler.keys.count
        statistics.records = zones.reduce(0) { $0 + $1.nodes.values.reduce(0) { $0 + $1.count } }
        statistics.warnings = cluster.warnings
        statistics.buildSeconds = monotonicSeconds() - started
        var podNamespaces: [IPAddress: String] = [:]
        for case .pod(let pod) in objects where configuration.exposes(namespace: pod.namespace) {
            for address in pod.ips { podNamespaces[address] = pod.namespace }
        }
        let snapshot = compiler.makeSnapshot(
            statistics: statistics, podNamespaces: podNamespaces, clusterSynced: clusterSynced)
        return Result(snapshot: snapshot, zones: zones)
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

extension KubernetesObject {
    public var kindName: String {
        switch self {
        case .namespace: return "Namespace"
        case .service: return "Service"
        case .endpoints(let group): return group.origin == .endpoints ? "Endpoints" : "EndpointSlice"
        case .pod: return "Pod"
        }
    }
}
