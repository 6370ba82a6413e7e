import DNSWire

/// The names of one Service unit and their records, kept in a short list rather than in zone
/// models (issue #9: start-up). A unit's model cost about a third of a full build: copying the
/// empty model's tables, hashing every name into them, and walking up from each name. This
/// type makes the same records through the same rules (`ServiceRecordSink`), with each node's
/// records in the same order.
///
/// A full build takes only Services that need nothing beyond their own names (`plainService`):
/// `ServiceAnswers` writes most of them out, and this list holds the records of the rest. Any
/// other unit goes through `ClusterRecordsBuilder`, as every incremental change does.
/// `IncrementalEquivalenceTests` holds the full build that uses this type to the whole-model
/// build and to incremental changes.
struct ServiceUnitNodes: ServiceRecordSink {
    let configuration: RegistryConfiguration
    /// Cluster names (lower case) with their records. Names holding none are the empty
    /// non-terminals between a name and the Service's own (`_tcp.<service>`).
    private(set) var cluster: [(name: DomainName, records: [ResourceRecord])] = []
    /// PTR names (lower case) with their records; `zone` 0 is `in-addr.arpa`, 1 `ip6.arpa`.
    private(set) var reverse: [(zone: Int, name: DomainName, records: [ResourceRecord])] = []
    /// The namespace's node (`<ns>.svc.<zone>`), where walks up from a name stop: it and the
    /// names above it belong to other units, as with `ZoneModel.ancestorCeiling`.
    private var ceiling: DomainName?

    /// Up to this many records (addresses, ports, endpoints' addresses and ports), the lists
    /// are searched name by name and record by record. A Service with more takes the model's
    /// hash tables: scanning was quadratic in a Service's addresses.
    static var recordLimit: Int { 256 }

    init(configuration: RegistryConfiguration) {
        self.configuration = configuration
    }

    /// A unit that needs no zone model: one Service, with its name and endpoints.
    struct PlainService {
        let service: Service
        let addresses: [IPAddress]?
        let base: DomainName
        let endpoints: [ResolvedEndpoint]
    }

    /// `unit`'s Service when the unit needs no zone model; nil under `--multicluster`
    /// (ServiceImports share the unit), for aliases under `--alias-domains`, an ExternalName
    /// (its CNAME is chased through other units), a name declared twice or not a valid label
    /// (both warn), or more than `recordLimit` records.
    static func plainService(_ unit: ServiceUnit, from objects: ClusterObjects) -> PlainService? {
        let configuration = objects.configuration
        guard configuration.multicluster == nil else { return nil }
        let stored = objects.objects(named: unit)
        guard let copies = stored?.services, copies.count == 1, let service = copies.first?.value,
              service.aliases == nil || configuration.aliasDomains.isEmpty,
              ClusterRecordsBuilder.isDNS1035Label(service.name), ClusterRecordsBuilder.isDNS1123Label(service.namespace),
              let base = try? configuration.domain.prepending(utf8Labels: [service.name, service.namespace, "svc"])
        else { return nil }
        let addresses: [IPAddress]?
        switch service.kind {
        case .clusterIP(let clusterIPs): addresses = clusterIPs
        case .headless: addresses = nil
        case .externalName: return nil
        }
        let endpoints = objects.endpoints(of: service, among: stored)
        let records = (addresses?.count ?? 0) + service.ports.count
            + endpoints.reduce(0) { $0 + $1.endpoint.storedAddresses.count + $1.ports.count }
        guard records <= Self.recordLimit else { return nil }
        return PlainService(service: service, addresses: addresses, base: base, endpoints: endpoints)
    }

    /// Replaces the lists with the names of `plain`'s unit.
    mutating func fill(_ plain: PlainService) {
        cluster.removeAll(keepingCapacity: true)
        reverse.removeAll(keepingCapacity: true)
        ceiling = plain.base.parent.lowercased()
        if let addresses = plain.addresses {
            addClusterIPService(plain.service, base: plain.base, addresses: addresses, endpoints: plain.endpoints)
        } else {
            addHeadlessService(plain.service, base: plain.base, endpoints: plain.endpoints)
        }
    }

    /// The records at `name` (lower case), nil when the unit does not hold it.
    func records(at name: DomainName) -> [ResourceRecord]? {
        index(of: name).map { cluster[$0].records }
    }

    private func index(of name: DomainName) -> Int? {
        cluster.firstIndex { $0.name.wire == name.wire }
    }

    mutating func addClusterName(_ name: DomainName) {
        var current = name.lowercased()
        // As `ZoneModel.addName`: up to the first name that exists, short of the ceiling.
        while let ceiling, current.labelCount > ceiling.labelCount, index(of: current) == nil {
            cluster.append((current, []))
            current = current.parent
        }
    }

    mutating func addClusterRecord(_ record: ResourceRecord) {
        var record = record
        record.name = record.name.lowercased()
        if let index = index(of: record.name) {
            if !cluster[index].records.contains(record) { cluster[index].records.append(record) }
            return
        }
        // A new name's parent exists from then on, as in `ZoneModel.add` (RFC 8020).
        cluster.append((record.name, [record]))
        addClusterName(record.name.parent)
    }

    mutating func addReverseRecord(_ record: ResourceRecord, zone: Int) {
        var record = record
        record.name = record.name.lowercased()
        if let index = reverse.firstIndex(where: { $0.zone == zone && $0.name.wire == record.name.wire }) {
            if !reverse[index].records.contains(record) { reverse[index].records.append(record) }
            return
        }
        reverse.append((zone, record.name, [record]))
    }
}

/// Answers the names of the Service unit being compiled from its `ServiceUnitNodes`, and any
/// other name from `fallback` (which notes the unit it belongs to).
struct ServiceNodesLookup<Fallback: RecordLookup>: RecordLookup {
    let nodes: ServiceUnitNodes
    let unit: RegistryUnit
    var fallback: Fallback

    mutating func records(at name: DomainName, zone: Int) -> [ResourceRecord]? {
        if zone == 0, unit.holds(name, domain: nodes.configuration.domain) { return nodes.records(at: name.lowercased()) }
        return fallback.records(at: name, zone: zone)
    }

    mutating func synthesizesChildren(of name: DomainName, zone: Int) -> Bool {
        fallback.synthesizesChildren(of: name, zone: zone)
    }

    mutating func embedsSOA(of zone: Int) { fallback.embedsSOA(of: zone) }
}
