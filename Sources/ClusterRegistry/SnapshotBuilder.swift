import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds an immutable `RegistrySnapshot` from objects and zone files in one go: `check`,
/// `records`, tests and benchmarks. Servers keep a `SegmentedRegistry` instead and apply
/// changes to it. Pure apart from reading the clock for the SOA serial and the build time.
public enum SnapshotBuilder {
    public struct Result: Sendable {
        public var snapshot: RegistrySnapshot
        public var registry: SegmentedRegistry

        /// The zones in presentation-ready form (for `clusterdns records`), built on demand.
        public var zones: [ZoneModel] { registry.zoneModels() }
    }

    public static func build(
        objects: [KubernetesObject], staticZones: [ZoneModel], configuration: RegistryConfiguration,
        serial: UInt32? = nil, skippedKinds: [String: Int] = [:], clusterSynced: Bool = true
    ) -> Result {
        let started = MonotonicClock.seconds()
        let changes = objects.enumerated().map { ObjectChange(key: ObjectKey(origin: "", position: $0), object: $1) }
        var registry = SegmentedRegistry(
            configuration: configuration, staticZones: staticZones, changes: changes, serial: serial ?? wallClockSerial(),
            clusterSynced: clusterSynced)
        registry.skippedKinds = skippedKinds
        return Result(snapshot: registry.snapshot(buildSeconds: MonotonicClock.seconds() - started), registry: registry)
    }

    /// The serial a build starts from: seconds since the epoch, as CoreDNS uses.
    public static func wallClockSerial() -> UInt32 { UInt32(truncatingIfNeeded: time(nil)) }
}

extension KubernetesObject {
    /// The object's own name; endpoint groups are named after their Service.
    public var objectName: String {
        switch self {
        case .namespace(let namespace): return namespace.name
        case .service(let service), .serviceImport(let service): return service.name
        case .endpoints(let group): return group.serviceName
        case .pod(let pod): return pod.name
        }
    }

    public var kindName: String {
        switch self {
        case .namespace: return "Namespace"
        case .service: return "Service"
        case .endpoints(let group): return group.origin == .endpoints ? "Endpoints" : "EndpointSlice"
        case .pod: return "Pod"
        case .serviceImport: return "ServiceImport"
        }
    }
}
