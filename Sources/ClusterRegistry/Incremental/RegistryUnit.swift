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

    /// Whether `name` (any case) belongs to this unit: `of(name.lowercased(), domain:) == self`
    /// without allocating. A full build asks it for every name a unit's model holds and every
    /// name an answer looks up; `of` makes two Strings each time, 7 % of a 100k build (issue #9).
    func holds(_ name: DomainName, domain: DomainName) -> Bool {
        guard name.isSubdomain(of: domain) else { return false }
        let below = name.labelCount - domain.labelCount
        return name.wire.withUnsafeBufferPointer { wire in
            guard below >= 2 else { return self == .apex }
            let kind = Self.label(wire, below - 1)
            let isServices = Self.label(kind, equals: "svc"), isPods = Self.label(kind, equals: "pod")
            switch self {
            case .apex:
                return !isServices && !isPods
            case .namespace(let namespace):
                return (isPods || (isServices && below == 2)) && Self.label(Self.label(wire, below - 2), equals: namespace)
            case .service(let service):
                return isServices && below >= 3 && Self.label(Self.label(wire, below - 2), equals: service.namespace)
                    && Self.label(Self.label(wire, below - 3), equals: service.name)
            }
        }
    }

    /// Label `position` of a wire name, counted from the left.
    private static func label(_ wire: UnsafeBufferPointer<UInt8>, _ position: Int) -> Slice<UnsafeBufferPointer<UInt8>> {
        var index = 0
        for _ in 0..<position { index += 1 + Int(wire[index]) }
        return wire[(index + 1)..<(index + 1 + Int(wire[index]))]
    }

    /// Whether a label, folded to lower case, spells `text` (unit strings are lower case).
    private static func label(_ label: Slice<UnsafeBufferPointer<UInt8>>, equals text: String) -> Bool {
        guard label.count == text.utf8.count else { return false }
        var text = text  // native Strings are contiguous; others are made so, once
        return text.withUTF8 { bytes in
            // Through the base buffer: `Slice.indices` is not specialized here, and was most
            // of this function's time.
            var position = label.startIndex
            for byte in bytes {
                if DomainName.lowercase(label.base[position]) != byte { return false }
                position += 1
            }
            return true
        }
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
