import DNSWire

// Minimal, DNS-relevant copies of Kubernetes objects (CoreDNS keeps stripped-down objects too):
// only the fields that change an answer are kept, so 100k objects stay small.

/// Where an object came from, for error messages and `explain`-style output.
///
/// One reference wide: every Service, endpoint group and pod carries one, and inline it took
/// 40 bytes of each (at 100k Services about 8 MiB), though only manifests fill it in.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// 40 bytes with its header, a 48-byte heap block: document and line as 32-bit numbers (a
    /// 64 MiB manifest holds at most 16M documents and lines), line 0 for "unknown".
    private final class Storage: Sendable {
        let file: String
        let document: Int32
        let line: Int32

        init(file: String, document: Int, line: Int?) {
            self.file = file
            self.document = Int32(clamping: document)
            self.line = line.map { Int32(clamping: max(1, $0)) } ?? 0
        }
    }

    private let storage: Storage

    public var file: String { storage.file }
    /// 0-based index of the YAML document in the file (items of a `List` share their
    /// document's index; their field paths start with `items[i].`).
    public var document: Int { Int(storage.document) }
    /// 1-based line where the document or item starts, when the parser knows it.
    public var line: Int? { storage.line == 0 ? nil : Int(storage.line) }

    public init(file: String, document: Int, line: Int? = nil) {
        storage = Storage(file: file, document: document, line: line)
    }

    public static func == (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.file == rhs.file && lhs.document == rhs.document && lhs.line == rhs.line)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(file)
        hasher.combine(document)
        hasher.combine(line)
    }

    /// Human form counts documents from 1, like lines.
    public var description: String {
        "\(file): document \(document + 1)" + (line.map { ", line \($0)" } ?? "")
    }
}

public enum TransportProtocol: String, Hashable, Sendable, CaseIterable {
    case tcp = "TCP", udp = "UDP", sctp = "SCTP"

    /// The SRV label form: `_tcp`, `_udp`, `_sctp`.
    public var srvLabel: String { "_" + rawValue.lowercased() }
}

public struct Namespace: Hashable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct ServicePort: Hashable, Sendable {
    /// `nil` or empty for unnamed ports: those get no `_port._proto` SRV name (k8s DNS spec §2.4.1).
    public var name: String?
    public var port: Int
    public var proto: TransportProtocol
    /// Numeric `targetPort`, used when endpoints are derived from Pod objects; nil when absent
    /// or named (a named target port would need the pod's container ports).
    public var targetPort: Int?

    public init(name: String?, port: Int, proto: TransportProtocol = .tcp, targetPort: Int? = nil) {
        self.name = name
        self.port = port
        self.proto = proto
        self.targetPort = targetPort
    }
}

public struct Service: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `spec.clusterIPs` (or `spec.clusterIP`), dual-stack allowed.
        case clusterIP([IPAddress])
        /// `clusterIP: None`.
        case headless
        /// `type: ExternalName` with `spec.externalName` as written.
        case externalName(String)
    }

    /// `Kind` as stored: the usual single ClusterIP inline, since an array of one would cost a
    /// heap block per Service (at 100k Services about 6 MiB).
    private enum StoredKind: Hashable, Sendable {
        case singleClusterIP(IPAddress)
        case clusterIPs([IPAddress])
        case headless
        case externalName(String)

        init(_ kind: Kind) {
            switch kind {
            case .clusterIP(let addresses) where addresses.count == 1: self = .singleClusterIP(addresses[0])
            case .clusterIP(let addresses): self = .clusterIPs(addresses)
            case .headless: self = .headless
            case .externalName(let target): self = .externalName(target)
            }
        }

        var kind: Kind {
            switch self {
            case .singleClusterIP(let address): return .clusterIP([address])
            case .clusterIPs(let addresses): return .clusterIP(addresses)
            case .headless: return .headless
            case .externalName(let target): return .externalName(target)
            }
        }
    }

    public var name: String
    public var namespace: String
    private var storedKind: StoredKind
    public var kind: Kind {
        get { storedKind.kind }
        set { storedKind = StoredKind(newValue) }
    }
    public var ports: [ServicePort]
    /// `nil` for selector-less Services (endpoints come from Endpoints/EndpointSlices only).
    public var selector: [String: String]?
    public var publishNotReadyAddresses: Bool
    public var source: SourceLocation?
    /// The `clusterdns.io/aliases` annotation, when the Service has one.
    public var aliases: ServiceAliases?

    public init(
        name: String, namespace: String, kind: Kind, ports: [ServicePort] = [],
        selector: [String: String]? = nil, publishNotReadyAddresses: Bool = false,
        source: SourceLocation? = nil, aliases: ServiceAliases? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.storedKind = StoredKind(kind)
        self.ports = ports
        self.selector = selector
        self.publishNotReadyAddresses = publishNotReadyAddresses
        self.source = source
        self.aliases = aliases
    }
}

/// A Service's `clusterdns.io/aliases` annotation: names outside the cluster zone that answer
/// like the Service's own name (`--alias-domains` says which are accepted). Boxed, since
/// almost no Service has one and a Service is stored 100k times. `created` is
/// `metadata.creationTimestamp` in seconds: an alias two Services claim goes to the older.
public final class ServiceAliases: Hashable, Sendable {
    /// The names as written, trimmed, without a trailing dot; not yet validated.
    public let names: [String]
    public let created: Double?

    public static let annotation = "clusterdns.io/aliases"

    public init(names: [String], created: Double? = nil) {
        self.names = names
        self.created = created
    }

    /// The names of an annotation value: comma-separated, blanks around each ignored.
    public convenience init?(annotation value: String, created: Double?) {
        let names = value.split(separator: ",").map { entry -> String in
            var name = entry.trimmingCharacters(in: " \t\n")
            if name.hasSuffix("."), name.count > 1 { name.removeLast() }
            return name
        }.filter { !$0.isEmpty }
        guard !names.isEmpty else { return nil }
        self.init(names: names, created: created)
    }

    public static func == (lhs: ServiceAliases, rhs: ServiceAliases) -> Bool {
        lhs.names == rhs.names && lhs.created == rhs.created
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(names)
        hasher.combine(created)
    }
}

extension StringProtocol {
    /// Without the leading and trailing characters in `characters` (no Foundation here).
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        guard let first = firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = lastIndex(where: { !set.contains($0) })!
        return String(self[first...last])
    }
}

public struct Endpoint: Hashable, Sendable {
    /// The first address inline, any others in an array: an EndpointSlice endpoint holds one
    /// address, and an array for it would cost 64 bytes of heap, at 250k endpoints 15 MiB.
    private var firstAddress: IPAddress?
    private var otherAddresses: [IPAddress]

    public var addresses: [IPAddress] {
        get { firstAddress.map { [$0] + otherAddresses } ?? [] }
        set {
            firstAddress = newValue.first
            otherAddresses = newValue.count > 1 ? Array(newValue.dropFirst()) : []
        }
    }

    /// The addresses as stored, without making an array (`addresses` makes one): a full build
    /// reads every endpoint's (issue #9).
    public var storedAddresses: StoredAddresses { StoredAddresses(leading: firstAddress, others: otherAddresses) }

    /// An endpoint's addresses read in place: the first, then the others.
    public struct StoredAddresses: RandomAccessCollection, Sendable {
        fileprivate let leading: IPAddress?
        fileprivate let others: [IPAddress]

        public var startIndex: Int { 0 }
        public var endIndex: Int { leading == nil ? 0 : 1 + others.count }
        public subscript(position: Int) -> IPAddress {
            position == 0 ? leading! : others[position - 1]  // a leading address whenever endIndex > 0
        }
    }

    /// `hostname` field (StatefulSet pods with a matching subdomain get one).
    public var hostname: String?
    /// `targetRef.name` when `targetRef.kind` is Pod: used by `--endpoint-pod-names`.
    public var podName: String?
    /// EndpointSlice `conditions.ready` (absent means ready); v1 Endpoints: `addresses` vs
    /// `notReadyAddresses`.
    public var ready: Bool

    public init(addresses: [IPAddress], hostname: String? = nil, podName: String? = nil, ready: Bool = true) {
        firstAddress = addresses.first
        otherAddresses = addresses.count > 1 ? Array(addresses.dropFirst()) : []
        self.hostname = hostname
        self.podName = podName
        self.ready = ready
    }
}

public struct EndpointPort: Hashable, Sendable {
    public var name: String?
    public var port: Int
    public var proto: TransportProtocol

    public init(name: String?, port: Int, proto: TransportProtocol = .tcp) {
        self.name = name
        self.port = port
        self.proto = proto
    }
}

/// One v1 `Endpoints` subset or one `EndpointSlice`: endpoints that share a port list.
public struct EndpointGroup: Hashable, Sendable {
    public enum Origin: Hashable, Sendable {
        case endpoints        // core/v1 Endpoints
        case endpointSlice    // discovery.k8s.io/v1
        /// An EndpointSlice of a ServiceImport (KEP-1645): labelled
        /// `multicluster.kubernetes.io/service-name` and `…/source-cluster`, the cluster id
        /// its endpoints' names carry.
        case multiclusterSlice(sourceCluster: String)
    }

    /// The Service these belong to: the Endpoints' own name, or the slice's
    /// `kubernetes.io/service-name` label.
    public var serviceName: String
    public var namespace: String
    public var origin: Origin
    public var endpoints: [Endpoint]
    public var ports: [EndpointPort]
    public var source: SourceLocation?
    /// The slice's `endpoints.kubernetes.io/last-change-trigger-time` annotation, in seconds
    /// since the epoch: when the change it carries was triggered (a pod became ready, say). The
    /// programming-latency metric measures from here to when the change is served (CoreDNS's
    /// `dns_programming_duration_seconds`).
    public var lastChangeTriggerTime: Double?

    public init(
        serviceName: String, namespace: String, origin: Origin,
        endpoints: [Endpoint], ports: [EndpointPort], source: SourceLocation? = nil,
        lastChangeTriggerTime: Double? = nil
    ) {
        self.lastChangeTriggerTime = lastChangeTriggerTime
        self.serviceName = serviceName
        self.namespace = namespace
        self.origin = origin
        self.endpoints = endpoints
        self.ports = ports
        self.source = source
    }
}

public struct Pod: Hashable, Sendable {
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    /// `status.podIPs` (or `status.podIP`); empty for pods not yet scheduled.
    public var ips: [IPAddress]
    public var hostname: String?
    public var subdomain: String?
    /// The `Ready` condition in `status.conditions`; pods without conditions count as ready,
    /// since hand-written manifests rarely carry a status.
    public var ready: Bool
    public var source: SourceLocation?

    public init(
        name: String, namespace: String, labels: [String: String] = [:], ips: [IPAddress],
        hostname: String? = nil, subdomain: String? = nil, ready: Bool = true,
        source: SourceLocation? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.ips = ips
        self.hostname = hostname
        self.subdomain = subdomain
        self.ready = ready
        self.source = source
    }
}

public enum KubernetesObject: Hashable, Sendable {
    case namespace(Namespace)
    case service(Service)
    case endpoints(EndpointGroup)
    case pod(Pod)
    /// A `multicluster.x-k8s.io` ServiceImport (KEP-1645), read into a Service's shape: `spec.type`
    /// ClusterSetIP is `.clusterIP(spec.ips)`, Headless is `.headless`, and `spec.ports`.
    case serviceImport(Service)

    /// A ServiceImport or one of its slices (KEP-1645).
    public var isMulticluster: Bool {
        switch self {
        case .serviceImport: return true
        case .endpoints(let group): if case .multiclusterSlice = group.origin { return true } else { return false }
        default: return false
        }
    }

    /// The namespace the object lives in (a Namespace lives in itself).
    public var namespaceName: String {
        switch self {
        case .namespace(let ns): return ns.name
        case .service(let svc), .serviceImport(let svc): return svc.namespace
        case .endpoints(let group): return group.namespace
        case .pod(let pod): return pod.namespace
        }
    }
}

/// What a manifests directory held: DNS-relevant objects plus counts of what was skipped.
public struct ManifestSet: Sendable {
    public var objects: [KubernetesObject]
    /// Kinds that are valid Kubernetes objects but irrelevant to DNS (Deployment, ConfigMap, …).
    public var skippedKinds: [String: Int]
    public var fileCount: Int

    public init(objects: [KubernetesObject] = [], skippedKinds: [String: Int] = [:], fileCount: Int = 0) {
        self.objects = objects
        self.skippedKinds = skippedKinds
        self.fileCount = fileCount
    }
}

/// A manifest that cannot be understood. Always names the file, the document and the field.
public struct ManifestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// Dotted path of the offending field, e.g. `spec.ports[1].port`; empty for syntax errors.
    public var field: String
    public var message: String

    public init(location: SourceLocation, field: String, message: String) {
        self.location = location
        self.field = field
        self.message = message
    }

    public var description: String {
        "\(location)" + (field.isEmpty ? "" : ", field \(field)") + ": \(message)"
    }
}
