import DNSWire

/// The part of the cluster zone one change rebuilds together (DESIGN.md §4). Every cluster
/// name belongs to exactly one unit, found from the name alone:
/// - `apex`: the zone apex, `dns-version`, `ns.dns`, and the `svc`/`pod` non-terminals;
/// - `namespace`: `<ns>.svc.<zone>`, `<ns>.pod.<zone>` and the pod names below it;
/// - `service`: `<svc>.<ns>.svc.<zone>` and every name below it (ports, endpoint hosts).
///
/// PTR names are not units: each is rebuilt from the Services that point at its address.
public enum RegistryUnit: Hashable, Sendable, Comparable {
    case apex
    case namespace(String)
    case service(ServiceUnit)

    /// The unit holding `name` (lower case), or nil when it is outside the cluster zone.
    static func of(_ name: DomainName, domain: DomainName) -> RegistryUnit? {
        guard name.isSubdomain(of: domain) else { return nil }
        let below = name.labelCount - domain.labelCount
        guard below >= 2 else { return .apex }
        let labels = name.labels
        let kind = labels[below - 1], namespace = String(decoding: labels[below - 2], as: UTF8.self)
        if kind.elementsEqual("svc".utf8) {
            guard below >= 3 else { return .namespace(namespace) }
            return .service(ServiceUnit(namespace: namespace, name: String(decoding: labels[below - 3], as: UTF8.self)))
        }
        if kind.elementsEqual("pod".utf8) { return .namespace(namespace) }
        return .apex
    }

    public static func < (lhs: RegistryUnit, rhs: RegistryUnit) -> Bool {
        switch (lhs, rhs) {
        case (.apex, .apex): return false
        case (.apex, _): return true
        case (_, .apex): return false
        case (.namespace(let left), .namespace(let right)): return left < right
        case (.namespace, .service): return true
        case (.service, .namespace): return false
        case (.service(let left), .service(let right)): return left < right
        }
    }
}
