import DNSWire

/// How objects become DNS names: everything `serve` flags decide about the answer data.
public struct RegistryConfiguration: Sendable, Hashable {
    /// `--pods`: how `a-b-c-d.ns.pod.<zone>` is answered (k8s DNS spec leaves pods optional).
    public enum PodMode: String, Sendable, Hashable, CaseIterable {
        case disabled, insecure, verified
    }

    /// The cluster domain, lower-cased.
    public var domain: DomainName
    public var ttl: UInt32
    public var pods: PodMode
    /// `--namespaces`: only these are exposed; nil exposes every namespace.
    public var namespaces: Set<String>?
    /// `--endpoint-pod-names`: name endpoints without a hostname after their pod.
    public var endpointPodNames: Bool
    /// Serve PTR records for ClusterIPs and endpoint addresses.
    public var reverse: Bool
    /// Addresses of this server, for `ns.dns.<zone>` and the apex NS glue.
    public var nameserverAddresses: [IPAddress]
    /// `--single-ptr`: one PTR per address (`SinglePointer`) instead of one per name.
    public var singlePointer: Bool
    /// `--multicluster`: the KEP-1645 clusterset zone (`clusterset.local`), lower-cased; nil
    /// leaves ServiceImports and their slices out.
    public var multicluster: DomainName? = nil {
        didSet { multicluster = multicluster?.lowercased() }
    }
    /// `--alias-domains`: Services' `clusterdns.io/aliases` are accepted below these domains
    /// only (lower-cased, sorted); empty turns aliases off. A security boundary: a namespace
    /// owner must not be able to take over arbitrary names.
    public var aliasDomains: [DomainName] = [] {
        didSet { aliasDomains = Array(Set(aliasDomains.map { $0.lowercased() })).sorted() }
    }

    public init(
        domain: DomainName = try! DomainName("cluster.local"), ttl: UInt32 = 5, pods: PodMode = .insecure,
        namespaces: Set<String>? = nil, endpointPodNames: Bool = false, reverse: Bool = true,
        nameserverAddresses: [IPAddress] = [], singlePointer: Bool = false
    ) {
        self.domain = domain.lowercased()
        self.ttl = ttl
        self.pods = pods
        self.namespaces = namespaces
        self.endpointPodNames = endpointPodNames
        self.reverse = reverse
        self.nameserverAddresses = nameserverAddresses
        self.singlePointer = singlePointer
    }

    public func exposes(namespace: String) -> Bool {
        namespaces?.contains(namespace) ?? true
    }

    /// Why an alias is refused, for the warning naming its Service.
    public enum AliasRefusal: Error, Equatable {
        case notAName
        case outsideAliasDomains
    }

    /// An alias as it is served: a host name (letters, digits, '-' and '_' in labels of at most
    /// 63 bytes, RFC 1123 §2.1) strictly below one of `aliasDomains` and outside the cluster
    /// domain, lower-cased.
    public func acceptedAlias(_ text: String) -> Result<DomainName, AliasRefusal> {
        guard let name = try? DomainName(text.lowercased()), !name.isRoot,
              name.labels.allSatisfy({ label in
                  !label.isEmpty && label.allSatisfy { byte in
                      (97...122).contains(byte) || (48...57).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                  }
              })
        else { return .failure(.notAName) }
        guard !name.isSubdomain(of: domain), aliasDomains.contains(where: { name != $0 && name.isSubdomain(of: $0) }) else {
            return .failure(.outsideAliasDomains)
        }
        return .success(name)
    }

    /// TTL of the zone's SOA record, also the negative-caching TTL (RFC 2308 §5).
    public var soaTTL: UInt32 { min(ttl, 300) }

    /// `dns-version.<zone>` TXT TTL (k8s DNS spec §2.2).
    public static let versionTTL: UInt32 = 28800
    public static let schemaVersion = "1.1.0"
    /// `dns-version.<clusterset zone>` TXT: the KEP-1645 DNS specification's schema version.
    public static let multiclusterSchemaVersion = "1.0.0"
}
