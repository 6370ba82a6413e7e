import DNSWire

/// The prepared answers of a ClusterIP Service, the commonest unit of a large cluster,
/// written byte by byte in the form `SnapshotCompiler.compileNode` gives them (issue #9:
/// start-up and first sync). Its names have fixed shapes:
/// - `<svc>.<ns>.svc.<zone>`: A and AAAA of its ClusterIPs; SRV of every port, targeting the
///   name itself, with the ClusterIPs in the additional section;
/// - `_<port>._<proto>.<svc>...`: one SRV record per named port, the same additional section;
/// - `_<proto>.<svc>...`: the empty non-terminal above those;
/// - `<host>.<svc>...`: each endpoint's A and AAAA records (CoreDNS names them for ClusterIP
///   Services too);
/// - the PTR name of each address, pointing back at the Service's or the endpoint's name.
///
/// The records, their order and their compression are those of the general path. The
/// owner of every answer record is the question (a pointer to offset 12), and an SRV target
/// is written in full (RFC 2782). The additional owner is a pointer to the Service's name
/// inside the question. A PTR target shares no suffix with a reverse name: the cluster
/// domain is not below `arpa` (`applies`).
/// Anything else goes the general way: `write` returns nil for repeated addresses or port
/// numbers, two ports or two endpoints at one name, or a name it would have to spell.
/// `ClusterIPAnswersTests` and `IncrementalEquivalenceTests` hold it to the general path.
struct ClusterIPAnswers {
    let ttl: UInt32
    let reverse: Bool
    /// The lower-case wire names of the Service's named ports, one after the other, and where
    /// each is with its port number: kept from Service to Service, so that writing one
    /// allocates nothing of its own (issue #9: start-up).
    private var portNames: [UInt8] = []
    private var namedPorts: [(name: Range<Int>, port: UInt16, proto: TransportProtocol)] = []

    /// The endpoints' names (`<host>.<svc>...`, lower case), one after the other, with the
    /// index of each one's endpoint; kept like `portNames`.
    private var hostNames: [UInt8] = []
    private var hosts: [(name: Range<Int>, endpoint: Int)] = []
    /// `--endpoint-pod-names`: how endpoints are named (`ServiceRecordSink.hostLabel`).
    let endpointPodNames: Bool

    init(ttl: UInt32, reverse: Bool, endpointPodNames: Bool = false) {
        self.ttl = ttl
        self.reverse = reverse
        self.endpointPodNames = endpointPodNames
    }

    /// Whether a build may use it at all: not with `--single-ptr` (PTR sets are chosen and
    /// kept by record), nor when a zone file sits below the cluster domain (SRV targets'
    /// addresses are then looked up there) or the domain is below `arpa`.
    static func applies(to layout: ZoneLayout, collectsPointers: Bool) -> Bool {
        guard !collectsPointers, !layout.singlePointer, let cluster = layout.kinds.firstIndex(of: .cluster) else { return false }
        let domain = layout.apexes[cluster]
        guard let top = domain.labels.last, !top.elementsEqual("arpa".utf8) else { return false }
        return !layout.apexes.indices.contains { index in
            index != cluster && layout.kinds[index].ownsEveryName && layout.apexes[index].isSubdomain(of: domain)
        }
    }

    /// Writes the unit's names into `compiler`; returns how many records they hold, or nil,
    /// having written nothing, when the Service has another shape.
    mutating func write(_ plain: ServiceUnitNodes.PlainService, into compiler: inout SnapshotCompiler) -> Int? {
        guard let addresses = plain.addresses else { return nil }
        let endpoints = plain.endpoints
        // Every address once, ClusterIPs and endpoints together: each PTR name then holds one
        // record, and each endpoint's name its own addresses.
        guard !Self.repeats(addresses + endpoints.lazy.flatMap(\.endpoint.storedAddresses)) else { return nil }
        let ports = plain.service.ports
        guard !Self.repeats(ports.lazy.map { UInt16(clamping: $0.port) }) else { return nil }
        let base = plain.base  // lower case: a 1035 label, a 1123 label and the cluster domain
        guard collectPortNames(ports, base: base), collectHostNames(endpoints, base: base) else { return nil }

        // The Service's name: A, AAAA, then SRV (`compileNode` answers types in ascending order).
        var first = compiler.answers.count
        appendAddressAnswers(addresses, into: &compiler)
        if !ports.isEmpty {
            let weight = ClusterRecordsBuilder.weight(sharedBy: ports.count)
            appendSRVAnswer(
                ports: ports.lazy.map { UInt16(clamping: $0.port) }, weight: weight, target: base, targetAt: 12, addresses: addresses,
                into: &compiler)
        }
        compiler.appendName(key: base.wire, zone: 0, answersFrom: first)
        var enclosed: [TransportProtocol] = []  // at most three
        for (name, port, proto) in namedPorts {
            first = compiler.answers.count
            // The Service's name is the end of this one's: its addresses' owner points there.
            let targetAt = 12 + name.count - base.wire.count
            appendSRVAnswer(ports: CollectionOfOne(port), weight: 100, target: base, targetAt: targetAt, addresses: addresses, into: &compiler)
            compiler.appendName(key: portNames[name], zone: 0, answersFrom: first)
            // `_<proto>.<svc>...`, the empty non-terminal above, once per protocol: the name
            // without its first label.
            guard !enclosed.contains(proto) else { continue }
            enclosed.append(proto)
            let encloser = (name.lowerBound + 1 + Int(portNames[name.lowerBound]))..<name.upperBound
            compiler.appendName(key: portNames[encloser], zone: 0, answersFrom: compiler.answers.count)
        }
        // Each endpoint's name: its A, then its AAAA records.
        var endpointAddresses = 0
        for (name, endpoint) in hosts {
            let own = endpoints[endpoint].endpoint.storedAddresses
            endpointAddresses += own.count
            first = compiler.answers.count
            appendAddressAnswers(own, into: &compiler)
            compiler.appendName(key: hostNames[name], zone: 0, answersFrom: first)
        }
        let records = addresses.count + ports.count + namedPorts.count + endpointAddresses
        guard reverse else { return records }
        // PTR names: a target shares no suffix with the question (`applies`), so it is written
        // in full.
        for address in addresses { appendPointer(from: address, to: base.wire[...], into: &compiler) }
        for (name, endpoint) in hosts {
            for address in endpoints[endpoint].endpoint.storedAddresses { appendPointer(from: address, to: hostNames[name], into: &compiler) }
        }
        return records + addresses.count + endpointAddresses
    }

    /// The A answer, then the AAAA answer, of a name holding `addresses`.
    private func appendAddressAnswers(_ addresses: some Collection<IPAddress>, into compiler: inout SnapshotCompiler) {
        for family in [true, false] {
            let count = addresses.count(where: { $0.isIPv4 == family })
            guard count > 0 else { continue }
            compiler.appendAnswer(
                type: family ? .a : .aaaa, answerCount: count, additionalCount: 0,
                answer: { bytes in
                    for address in addresses where address.isIPv4 == family { appendAddress(address, ownerAt: 12, to: &bytes) }
                }, additional: { _ in })
        }
    }

    /// The PTR name of `address`, pointing at `target` (a wire name).
    private func appendPointer(from address: IPAddress, to target: ArraySlice<UInt8>, into compiler: inout SnapshotCompiler) {
        let first = compiler.answers.count
        compiler.appendAnswer(
            type: .ptr, answerCount: 1, additionalCount: 0,
            answer: { bytes in
                appendRecordHeader(ownerAt: 12, type: .ptr, rdataLength: target.count, to: &bytes)
                bytes.append(contentsOf: target)
            }, additional: { _ in })
        compiler.appendName(key: address.reverseDomainName.wire, zone: address.isIPv4 ? 1 : 2, answersFrom: first)
    }

    /// Fills `hostNames` and `hosts` with the endpoints' names, as `ServiceRecordSink` names
    /// them. False when one is not a plain lower-case label (upper case keeps its spelling in
    /// targets; `_` could meet a port's non-terminal), cannot be made, or comes twice.
    private mutating func collectHostNames(_ endpoints: [ResolvedEndpoint], base: DomainName) -> Bool {
        hostNames.removeAll(keepingCapacity: true)
        hosts.removeAll(keepingCapacity: true)
        for (index, resolved) in endpoints.enumerated() {
            guard let first = resolved.endpoint.storedAddresses.first else { continue }  // no name (`addEndpointNames`)
            let label = ClusterRecordsBuilder.hostLabel(resolved.endpoint, first, endpointPodNames: endpointPodNames).utf8
            guard let leading = label.first, leading != UInt8(ascii: "_"), label.count <= DomainName.maxLabelLength,
                  1 + label.count + base.wire.count <= DomainName.maxWireLength,
                  !label.contains(where: { DomainName.lowercase($0) != $0 })
            else { return false }
            let start = hostNames.count
            hostNames.append(UInt8(label.count))
            hostNames.append(contentsOf: label)
            hostNames.append(contentsOf: base.wire)
            let range = start..<hostNames.count
            guard !hosts.contains(where: { hostNames[$0.name].elementsEqual(hostNames[range]) }) else { return false }
            hosts.append((range, index))
        }
        return true
    }

    /// Fills `portNames` and `namedPorts` with the SRV names of `ports` (RFC 2782
    /// `_<port>._<proto>.<svc>...`, lower case). False when one cannot be made (a label or
    /// name too long) or two ports share one: those take the general path.
    private mutating func collectPortNames(_ ports: [ServicePort], base: DomainName) -> Bool {
        portNames.removeAll(keepingCapacity: true)
        namedPorts.removeAll(keepingCapacity: true)
        for port in ports {
            guard let name = port.name, !name.isEmpty else { continue }
            let protoLabel = Self.protocolLabels[port.proto] ?? []
            let length = 1 + name.utf8.count
            guard length <= DomainName.maxLabelLength, 2 + length + protoLabel.count + base.wire.count <= DomainName.maxWireLength
            else { return false }
            let start = portNames.count
            portNames.append(UInt8(length))
            portNames.append(UInt8(ascii: "_"))
            portNames.append(contentsOf: name.utf8.lazy.map(DomainName.lowercase))
            portNames.append(UInt8(protoLabel.count))
            portNames.append(contentsOf: protoLabel)
            portNames.append(contentsOf: base.wire)
            let range = start..<portNames.count
            guard !namedPorts.contains(where: { portNames[$0.name].elementsEqual(portNames[range]) }) else { return false }
            namedPorts.append((range, UInt16(clamping: port.port), port.proto))
        }
        return true
    }

    /// `_tcp`, `_udp`, `_sctp` as label bytes.
    private static let protocolLabels = Dictionary(
        uniqueKeysWithValues: TransportProtocol.allCases.map { ($0, Array($0.srvLabel.utf8)) })

    /// Whether any value comes twice: a scan, as a Service has a handful of addresses and ports.
    private static func repeats<Values: Collection>(_ values: Values) -> Bool where Values.Element: Hashable {
        guard values.count > 16 else {
            var index = values.startIndex
            while index != values.endIndex {
                let value = values[index]
                values.formIndex(after: &index)
                if values[index...].contains(value) { return true }
            }
            return false
        }
        return Set(values).count != values.count
    }

    /// An SRV RRset of `ports`, each targeting `target`, with `addresses` in the additional
    /// section, owned by the name at offset `targetAt` (the target inside the question).
    private func appendSRVAnswer(
        ports: some Collection<UInt16>, weight: UInt16, target: DomainName, targetAt: Int, addresses: [IPAddress], into compiler: inout SnapshotCompiler
    ) {
        compiler.appendAnswer(
            type: .srv, answerCount: ports.count, additionalCount: addresses.count,
            answer: { bytes in
                for port in ports {
                    appendRecordHeader(ownerAt: 12, type: .srv, rdataLength: 6 + target.wire.count, to: &bytes)
                    appendUInt16(0, to: &bytes)  // priority
                    appendUInt16(weight, to: &bytes)
                    appendUInt16(port, to: &bytes)
                    bytes.append(contentsOf: target.wire)  // RFC 2782: never compressed
                }
            },
            additional: { bytes in
                for address in addresses { appendAddress(address, ownerAt: targetAt, to: &bytes) }
            })
    }

    private func appendAddress(_ address: IPAddress, ownerAt offset: Int, to bytes: inout [UInt8]) {
        appendRecordHeader(ownerAt: offset, type: address.isIPv4 ? .a : .aaaa, rdataLength: address.isIPv4 ? 4 : 16, to: &bytes)
        address.withRDataBytes { bytes.append(contentsOf: $0) }
    }

    /// RFC 1035 §4.1.3: owner (a pointer, §4.1.4), type, class IN, TTL, RDLENGTH.
    private func appendRecordHeader(ownerAt offset: Int, type: RecordType, rdataLength: Int, to bytes: inout [UInt8]) {
        appendUInt16(0xC000 | UInt16(offset), to: &bytes)
        appendUInt16(type.rawValue, to: &bytes)
        appendUInt16(RecordClass.in.rawValue, to: &bytes)
        appendUInt16(UInt16(truncatingIfNeeded: ttl >> 16), to: &bytes)
        appendUInt16(UInt16(truncatingIfNeeded: ttl), to: &bytes)
        appendUInt16(UInt16(rdataLength), to: &bytes)
    }

    private func appendUInt16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
}
