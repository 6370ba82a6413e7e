import DNSWire

/// The prepared answers of a plain Service unit (`ServiceUnitNodes.plainService`), written
/// byte by byte in the form `SnapshotCompiler.compileNode` gives them (issue #9: start-up and
/// first sync). A headless Service's are in `writeHeadless`. A ClusterIP Service's names have
/// fixed shapes:
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
/// numbers, two ports or two endpoints at one name, a name it would have to spell, or
/// answers that might not fit one message (the general path caps and reports those).
/// `ServiceAnswersTests` and `IncrementalEquivalenceTests` hold it to the general path.
struct ServiceAnswers {
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
    /// A headless Service's SRV records (port, index into `hosts`, index into `srvOwners` for
    /// a named port) and its port names (in `portNames`); kept like `portNames`.
    private var srvRecords: [(port: UInt16, host: Int, owner: Int?)] = []
    private var srvOwners: [(name: Range<Int>, proto: TransportProtocol)] = []
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
        guard let addresses = plain.addresses else { return writeHeadless(plain, into: &compiler) }
        let endpoints = plain.endpoints
        // Every address once, ClusterIPs and endpoints together: each PTR name then holds one
        // record, and each endpoint's name its own addresses.
        let every = addresses + endpoints.lazy.flatMap(\.endpoint.storedAddresses)
        let ports = plain.service.ports
        guard Self.fitsOneMessage(addresses: every.count, ports: ports.count), !Self.repeats(every) else { return nil }
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

    /// A headless Service (k8s DNS spec §2.4.2): its name holds every ready endpoint's
    /// addresses, sorted, and SRV records of every endpoint's ports targeting the endpoints'
    /// names, as do its port names; those names' addresses follow in the additional section.
    /// Each additional owner points at its target's first copy in the answer section, where
    /// the general path's compression table finds it. Nil for an address met twice, an
    /// endpoint with a port number twice (the RRsets would drop repeats), names as `write`
    /// declines them, or answers reaching past the 14-bit pointer range (RFC 1035 §4.1.4).
    private mutating func writeHeadless(_ plain: ServiceUnitNodes.PlainService, into compiler: inout SnapshotCompiler) -> Int? {
        let endpoints = plain.endpoints, base = plain.base
        let all = endpoints.flatMap(\.endpoint.storedAddresses)
        guard Self.fitsOneMessage(addresses: all.count, ports: 0), !Self.repeats(all), collectHostNames(endpoints, base: base)
        else { return nil }
        // No endpoint with an address: no name at all (`addHeadlessService`).
        guard !hosts.isEmpty else { return 0 }
        guard collectEndpointPorts(endpoints, base: base) else { return nil }
        // Every SRV answer must keep its targets within pointer reach.
        let bareSize = srvRecords.reduce(0) { $0 + 18 + hosts[$1.host].name.count }
        guard 16 + base.wire.count + bareSize < 0x4000 else { return nil }
        for owner in srvOwners where 16 + owner.name.count + bareSize >= 0x4000 { return nil }

        var first = compiler.answers.count
        appendAddressAnswers(all.sorted(), into: &compiler)
        if !srvRecords.isEmpty { appendEndpointSRVAnswer(owner: nil, question: base.wire.count, endpoints: endpoints, into: &compiler) }
        compiler.appendName(key: base.wire, zone: 0, answersFrom: first)
        for (name, endpoint) in hosts {
            first = compiler.answers.count
            appendAddressAnswers(endpoints[endpoint].endpoint.storedAddresses, into: &compiler)
            compiler.appendName(key: hostNames[name], zone: 0, answersFrom: first)
        }
        var enclosed: [TransportProtocol] = []
        for (index, owner) in srvOwners.enumerated() {
            first = compiler.answers.count
            appendEndpointSRVAnswer(owner: index, question: owner.name.count, endpoints: endpoints, into: &compiler)
            compiler.appendName(key: portNames[owner.name], zone: 0, answersFrom: first)
            guard !enclosed.contains(owner.proto) else { continue }
            enclosed.append(owner.proto)
            let encloser = (owner.name.lowerBound + 1 + Int(portNames[owner.name.lowerBound]))..<owner.name.upperBound
            compiler.appendName(key: portNames[encloser], zone: 0, answersFrom: compiler.answers.count)
        }
        let records = 2 * all.count + 2 * srvRecords.count - srvRecords.count(where: { $0.owner == nil })
        guard reverse else { return records }
        for (name, endpoint) in hosts {
            for address in endpoints[endpoint].endpoint.storedAddresses { appendPointer(from: address, to: hostNames[name], into: &compiler) }
        }
        return records + all.count
    }

    /// Fills `srvRecords` with every (port, endpoint) of the Service's SRV RRset, endpoint by
    /// endpoint, and `srvOwners` with the names of their named ports (in `portNames`, after
    /// whatever is there). False when an endpoint lists a port number twice or a name cannot
    /// be made.
    private mutating func collectEndpointPorts(_ endpoints: [ResolvedEndpoint], base: DomainName) -> Bool {
        portNames.removeAll(keepingCapacity: true)
        srvOwners.removeAll(keepingCapacity: true)
        srvRecords.removeAll(keepingCapacity: true)
        for (host, (_, endpoint)) in hosts.enumerated() {
            let ports = endpoints[endpoint].ports
            guard !Self.repeats(ports.lazy.map { UInt16(clamping: $0.port) }) else { return false }
            for port in ports {
                var owner: Int?
                if let name = port.name, !name.isEmpty {
                    guard let range = appendPortName(name, port.proto, base: base) else { return false }
                    if let existing = srvOwners.firstIndex(where: { portNames[$0.name].elementsEqual(portNames[range]) }) {
                        portNames.removeSubrange(range)  // the name is there already
                        owner = existing
                    } else {
                        owner = srvOwners.count
                        srvOwners.append((range, port.proto))
                    }
                }
                srvRecords.append((UInt16(clamping: port.port), host, owner))
            }
        }
        return true
    }

    /// The SRV answer of the Service's name (`owner` nil) or of one of its port names, with
    /// its targets' addresses in the additional section. `question` is the owner's wire length.
    private func appendEndpointSRVAnswer(
        owner: Int?, question: Int, endpoints: [ResolvedEndpoint], into compiler: inout SnapshotCompiler
    ) {
        let records = srvRecords.filter { owner == nil || $0.owner == owner }
        let weight = ClusterRecordsBuilder.weight(sharedBy: records.count)
        // Each target's first copy in the message, in the order the RRset names them.
        var targets: [(host: Int, offset: Int)] = []
        var offset = 12 + question + 4
        for record in records {
            if !targets.contains(where: { $0.host == record.host }) { targets.append((record.host, offset + 18)) }
            offset += 18 + hosts[record.host].name.count
        }
        let additional = targets.reduce(0) { $0 + endpoints[hosts[$1.host].endpoint].endpoint.storedAddresses.count }
        compiler.appendAnswer(
            type: .srv, answerCount: records.count, additionalCount: additional,
            answer: { bytes in
                for record in records {
                    appendSRVRecord(port: record.port, weight: weight, target: hostNames[hosts[record.host].name], to: &bytes)
                }
            },
            additional: { bytes in
                for (host, offset) in targets {
                    for address in endpoints[hosts[host].endpoint].endpoint.storedAddresses { appendAddress(address, ownerAt: offset, to: &bytes) }
                }
            })
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
            guard let range = appendPortName(name, port.proto, base: base),
                  !namedPorts.contains(where: { portNames[$0.name].elementsEqual(portNames[range]) })
            else { return false }
            namedPorts.append((range, UInt16(clamping: port.port), port.proto))
        }
        return true
    }

    /// Appends `_<name>._<proto>.<base>`, lower case, to `portNames`; nil when a label or the
    /// name would be too long (`DomainName.prepending` refuses it).
    private mutating func appendPortName(_ name: String, _ proto: TransportProtocol, base: DomainName) -> Range<Int>? {
        let protoLabel = Self.protocolLabels[proto] ?? []
        let length = 1 + name.utf8.count
        guard length <= DomainName.maxLabelLength, 2 + length + protoLabel.count + base.wire.count <= DomainName.maxWireLength
        else { return nil }
        let start = portNames.count
        portNames.append(UInt8(length))
        portNames.append(UInt8(ascii: "_"))
        portNames.append(contentsOf: name.utf8.lazy.map(DomainName.lowercase))
        portNames.append(UInt8(protoLabel.count))
        portNames.append(contentsOf: protoLabel)
        portNames.append(contentsOf: base.wire)
        return start..<portNames.count
    }

    /// Whether every answer of a Service with `addresses` addresses in all and `ports` ports
    /// fits one message, as the general path would keep it: an address record takes at most
    /// 28 bytes, a Service's SRV record at most 18 + 255. Bigger Services are capped and
    /// reported there (`SnapshotCompiler.sectionByteLimit`); a headless Service's SRV answers
    /// are bounded by pointer reach (`writeHeadless`).
    private static func fitsOneMessage(addresses: Int, ports: Int) -> Bool {
        addresses * 28 + ports * (18 + DomainName.maxWireLength) <= SnapshotCompiler.sectionByteLimit
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
                for port in ports { appendSRVRecord(port: port, weight: weight, target: target.wire[...], to: &bytes) }
            },
            additional: { bytes in
                for address in addresses { appendAddress(address, ownerAt: targetAt, to: &bytes) }
            })
    }

    /// An SRV record owned by the question, priority 0 (RFC 2782).
    private func appendSRVRecord(port: UInt16, weight: UInt16, target: ArraySlice<UInt8>, to bytes: inout [UInt8]) {
        appendRecordHeader(ownerAt: 12, type: .srv, rdataLength: 6 + target.count, to: &bytes)
        appendUInt16(0, to: &bytes)  // priority
        appendUInt16(weight, to: &bytes)
        appendUInt16(port, to: &bytes)
        bytes.append(contentsOf: target)  // RFC 2782: never compressed
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
