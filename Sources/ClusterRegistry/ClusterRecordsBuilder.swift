import DNSWire

/// Turns Kubernetes objects into the records of the cluster zone and the reverse zones,
/// following the Kubernetes DNS specification 1.1.0 and, where it is silent, CoreDNS's
/// `kubernetes` plugin. Pure: same objects and configuration, same zones.
public struct ClusterRecordsBuilder: Sendable, ServiceRecordSink {
    public let configuration: RegistryConfiguration
    public let serial: UInt32
    var cluster: ZoneModel
    var reverse: [ZoneModel]
    /// The clusterset zone of `--multicluster` (KEP-1645), when on.
    var multicluster: ZoneModel?
    /// One zone per `--alias-domains` domain, holding the Services' aliases below it.
    var aliasZones: [ZoneModel]
    /// Objects that produce no names and why, by the unit that met them.
    var skipped: [RegistryUnit: [String]] = [:]
    private var currentUnit: RegistryUnit?

    /// Services at which the work is split over two threads (`parallel` nil); tests force it.
    static let parallelThreshold = 5_000

    /// Builds the zones: the cluster zone first, then `in-addr.arpa` and `ip6.arpa` when
    /// reverse answers are on. `warnings` lists objects that produce no names and why.
    public static func build(
        objects: [KubernetesObject], configuration: RegistryConfiguration, serial: UInt32
    ) -> (zones: [ZoneModel], warnings: [String]) {
        build(objects: objects, configuration: configuration, serial: serial, parallel: nil)
    }

    static func build(
        objects: [KubernetesObject], configuration: RegistryConfiguration, serial: UInt32, parallel: Bool?
    ) -> (zones: [ZoneModel], warnings: [String]) {
        var store = ClusterObjects(configuration: configuration)
        for (position, object) in objects.enumerated() {
            store.apply(ObjectChange(key: ObjectKey(origin: "", position: position), object: object))
        }
        let built = build(store, serial: serial, parallel: parallel)
        return (built.zones, built.warnings.keys.sorted().flatMap { built.warnings[$0] ?? [] })
    }

    /// Every unit's records at once. `warnings` are keyed by the unit that skipped something.
    static func build(
        _ objects: ClusterObjects, serial: UInt32, parallel: Bool?
    ) -> (zones: [ZoneModel], warnings: [RegistryUnit: [String]]) {
        let configuration = objects.configuration
        let services = objects.serviceUnits
        let shares = parallel ?? (services.count >= parallelThreshold) ? 2 : 1
        // Each share builds zones of its own from a contiguous run of services; the second is
        // then merged into the first, which gives the zones one builder would have made.
        let builders = concurrentMap(count: shares) { share in
            var builder = ClusterRecordsBuilder(configuration: configuration, serial: serial)
            let range = (services.count * share / shares)..<(services.count * (share + 1) / shares)
            // A ClusterIP service yields about five records and two PTRs; headless ones more.
            builder.cluster.reserveCapacity(records: range.count * 5)
            for zone in builder.reverse.indices { builder.reverse[zone].reserveCapacity(records: range.count * 2) }
            if share == 0 {
                builder.add(.apex, from: objects)
                for namespace in objects.namespaceNames { builder.add(.namespace(namespace), from: objects) }
            }
            for unit in services[range] { builder.add(.service(unit), from: objects) }
            return builder
        }
        var builder = builders[0]
        for other in builders.dropFirst() {
            builder.cluster.merge(other.cluster)
            for zone in builder.reverse.indices { builder.reverse[zone].merge(other.reverse[zone]) }
            for zone in builder.aliasZones.indices { builder.aliasZones[zone].merge(other.aliasZones[zone]) }
            if let zone = other.multicluster { builder.multicluster?.merge(zone) }
            builder.skipped.merge(other.skipped) { $0 + $1 }
        }
        return (builder.zones, builder.skipped)
    }

    /// The records of one unit alone (with the non-terminals above its names): what an
    /// incremental change compiles, and what another unit's CNAME chase reads.
    static func records(of unit: RegistryUnit, from objects: ClusterObjects, serial: UInt32) -> ClusterRecordsBuilder {
        records(of: unit, from: objects, startingFrom: empty(configuration: objects.configuration, serial: serial))
    }

    /// The same, from a builder with no records yet (`empty`): its zones' apexes and SOAs are
    /// made once per build rather than once per unit.
    static func records(of unit: RegistryUnit, from objects: ClusterObjects, startingFrom empty: ClusterRecordsBuilder) -> ClusterRecordsBuilder {
        var builder = empty
        builder.add(unit, from: objects)
        return builder
    }

    /// A builder holding no records: the zones' shells (apex, kind, SOA).
    static func empty(configuration: RegistryConfiguration, serial: UInt32) -> ClusterRecordsBuilder {
        ClusterRecordsBuilder(configuration: configuration, serial: serial)
    }

    /// The cluster zone, the reverse zones, the clusterset zone, then the alias zones, as
    /// `build` returns them.
    var zones: [ZoneModel] { [cluster] + (configuration.reverse ? reverse : []) + (multicluster.map { [$0] } ?? []) + aliasZones }

    /// The index in `zones` of the clusterset zone, when on.
    var multiclusterZoneIndex: Int? { multicluster == nil ? nil : 1 + (configuration.reverse ? reverse.count : 0) }

    /// Compiles the names of `unit` this model holds beyond the cluster and reverse zones: its
    /// clusterset names, and its aliases (each alias is one unit's alone). Returns how many
    /// records they have.
    @discardableResult
    func compileZonesBeyondReverse(
        of unit: RegistryUnit, into compiler: inout SnapshotCompiler, lookup: inout some RecordLookup
    ) -> Int {
        var records = 0
        if let zone = multicluster, let index = multiclusterZoneIndex {
            for (owner, ownerRecords) in zone.nodes where unit.holds(owner, domain: zone.apex) {
                compiler.compileNode(owner, records: ownerRecords, zone: index, synthesizesPods: false, lookup: &lookup)
                records += ownerRecords.count
            }
        }
        for (offset, zone) in aliasZones.enumerated() {
            for (owner, ownerRecords) in zone.nodes {
                compiler.compileNode(owner, records: ownerRecords, zone: aliasZoneStart + offset, synthesizesPods: false, lookup: &lookup)
                records += ownerRecords.count
            }
        }
        return records
    }

    /// The index in `zones` of the first alias zone.
    var aliasZoneStart: Int { 1 + (configuration.reverse ? reverse.count : 0) + (multicluster == nil ? 0 : 1) }

    private mutating func add(_ unit: RegistryUnit, from objects: ClusterObjects) {
        let before = skipped[unit]?.count ?? 0
        switch unit {
        case .apex:
            addApex()
            addMulticlusterApex()
        case .namespace(let namespace):
            guard objects.namespaceExists(namespace) else { return }
            addNamespace(namespace, pods: objects.pods(in: namespace))
            if Self.isDNS1123Label(namespace) { addMulticlusterNamespace(namespace) }
        case .service(let service):
            if multicluster != nil, let serviceImport = objects.serviceImports(service.namespace, service.name).first {
                currentUnit = unit
                addServiceImport(serviceImport, endpoints: objects.importEndpoints(service.namespace, service.name))
            }
            // One Service per namespace and name, as the API server allows: manifests that
            // declare it twice are reported, and the first in file order is served (issue #11
            // item 10: both used to be merged without a word).
            let copies = objects.storedServices(service.namespace, service.name)
            guard let first = copies.first?.value else { break }
            // The namespace's node exists whenever a Service lives in it: its unit adds it.
            cluster.ancestorCeiling = name(service.namespace, "svc", under: cluster.apex)
            defer { cluster.ancestorCeiling = nil }
            addService(first, endpoints: objects.endpoints(of: first))
            addAliases(of: first, unit: service, from: objects)
            for duplicate in copies.dropFirst().map(\.value) {
                currentUnit = unit
                recordSkip("service \(duplicate.namespace)/\(duplicate.name)\(Self.at(duplicate.source)) is declared again; "
                    + "serving only the first\(Self.at(first.source))")
            }
        }
        if skipped[unit]?.count == before { skipped[unit] = nil }
        currentUnit = nil
    }

    private init(configuration: RegistryConfiguration, serial: UInt32) {
        self.configuration = configuration
        self.serial = serial
        let domain = configuration.domain
        cluster = ZoneModel(apex: domain, kind: .cluster, soa: Self.soa(apex: domain, domain: domain, configuration, serial))
        reverse = ["in-addr.arpa", "ip6.arpa"].compactMap { text in
            guard let apex = try? DomainName(text) else { return nil }
            return ZoneModel(apex: apex, kind: .reverse, soa: Self.soa(apex: apex, domain: domain, configuration, serial))
        }
        multicluster = configuration.multicluster.map { apex in
            ZoneModel(apex: apex, kind: .multicluster, soa: Self.soa(apex: apex, domain: domain, configuration, serial))
        }
        aliasZones = configuration.aliasDomains.map { apex in
            ZoneModel(apex: apex, kind: .alias, soa: Self.soa(apex: apex, domain: domain, configuration, serial))
        }
    }

    /// `<apex> SOA ns.dns.<zone>. hostmaster.<zone>. serial 7200 1800 86400 ttl` (k8s DNS spec §2.2).
    static func soa(apex: DomainName, domain: DomainName, _ configuration: RegistryConfiguration, _ serial: UInt32) -> ResourceRecord {
        let nameserver = (try? domain.prepending(labels: Self.labels("ns", "dns"))) ?? domain
        let mailbox = (try? domain.prepending("hostmaster")) ?? domain
        let data = SOAData(
            mname: nameserver, rname: mailbox, serial: serial, refresh: 7200, retry: 1800, expire: 86400,
            minimum: configuration.ttl)
        return ResourceRecord(name: apex, ttl: configuration.soaTTL, data: .soa(data))
    }

    private static func labels(_ parts: String...) -> [ArraySlice<UInt8>] { parts.map { Array($0.utf8)[...] } }

    private var ttl: UInt32 { configuration.ttl }

    private func name(_ parts: String..., under base: DomainName) -> DomainName? {
        try? base.prepending(utf8Labels: parts)
    }

    private mutating func addApex() {
        currentUnit = .apex
        let apex = configuration.domain
        cluster.add(cluster.soa)
        if let services = name("svc", under: apex) { cluster.addName(services) }
        if configuration.pods != .disabled, let pods = name("pod", under: apex) { cluster.addName(pods) }
        guard let nameserver = name("ns", "dns", under: apex) else { return }
        cluster.add(ResourceRecord(name: apex, ttl: ttl, data: .ns(nameserver)))
        for address in configuration.nameserverAddresses {
            cluster.add(ResourceRecord(name: nameserver, ttl: ttl, data: address.isIPv4 ? .a(address) : .aaaa(address)))
        }
        cluster.addName(nameserver)
        if let version = name("dns-version", under: apex) {
            let text = Array(RegistryConfiguration.schemaVersion.utf8)
            cluster.add(ResourceRecord(name: version, ttl: RegistryConfiguration.versionTTL, data: .txt([text])))
        }
    }

    /// `<ns>.svc.<zone>` and `<ns>.pod.<zone>` exist while the namespace does; pod names are
    /// synthesized below the latter (`--pods insecure`) or held for each pod (`verified`).
    private mutating func addNamespace(_ namespace: String, pods: [Pod]) {
        currentUnit = .namespace(namespace)
        guard Self.isDNS1123Label(namespace) else {
            recordSkip("namespace \(namespace): name is not a valid RFC 1123 label")
            return
        }
        let apex = configuration.domain
        guard let services = name("svc", under: apex), let podZone = name("pod", under: apex) else { return }
        if let node = name(namespace, under: services) { cluster.addName(node) }
        guard configuration.pods != .disabled, let podNamespace = name(namespace, under: podZone) else { return }
        cluster.addName(podNamespace)
        if configuration.pods == .insecure { cluster.podNamespaces.insert(podNamespace) }
        guard configuration.pods == .verified else { return }
        for pod in pods {
            for address in pod.ips {
                if let owner = name(address.dashed, pod.namespace, under: podZone) { addAddressRecord(address, at: owner) }
            }
        }
    }

    mutating func addAddressRecord(
        _ address: IPAddress, at owner: DomainName, in zone: WritableKeyPath<ClusterRecordsBuilder, ZoneModel> = \.cluster
    ) {
        self[keyPath: zone].add(ResourceRecord(name: owner, ttl: ttl, data: address.isIPv4 ? .a(address) : .aaaa(address)))
    }

    /// SRV weights: equal shares of 100 (CoreDNS), never 0 so every target stays eligible.
    static func weight(sharedBy count: Int) -> UInt16 { UInt16(max(1, 100 / max(count, 1))) }

    /// One SRV record per `(port, target)` at `owner`, the weight shared among them.
    static func srvRecords(at owner: DomainName, _ targets: [(Int, DomainName)], ttl: UInt32) -> some Sequence<ResourceRecord> {
        let weight = weight(sharedBy: targets.count)
        return targets.lazy.map { port, target in
            ResourceRecord(name: owner, ttl: ttl, data: .srv(SRVData(priority: 0, weight: weight, port: UInt16(clamping: port), target: target)))
        }
    }

    mutating func addSRV(
        at owner: DomainName, _ targets: [(Int, DomainName)], in zone: WritableKeyPath<ClusterRecordsBuilder, ZoneModel> = \.cluster
    ) {
        for record in Self.srvRecords(at: owner, targets, ttl: ttl) { self[keyPath: zone].add(record) }
    }

    mutating func addClusterName(_ name: DomainName) { cluster.addName(name) }

    mutating func addClusterRecord(_ record: ResourceRecord) { cluster.add(record) }

    mutating func addReverseRecord(_ record: ResourceRecord, zone: Int) { reverse[zone].add(record) }

    mutating func addCNAME(at owner: DomainName, to target: DomainName) {
        cluster.add(ResourceRecord(name: owner, ttl: ttl, data: .cname(target)))
    }

    /// " (file: document N, line L)" for an object from a manifest; nothing for the API's.
    static func at(_ source: SourceLocation?) -> String { source.map { " (\($0))" } ?? "" }

    mutating func recordSkip(_ reason: String) { skipped[currentUnit ?? .apex, default: []].append(reason) }

    func serviceName(_ service: Service) -> DomainName? {
        name(service.name, service.namespace, "svc", under: configuration.domain)
    }

    mutating func addService(_ service: Service, endpoints: [ResolvedEndpoint]) {
        currentUnit = .service(ServiceUnit(namespace: service.namespace.dnsLowercased, name: service.name.dnsLowercased))
        // Names the API server would refuse (`a.b`, spaces, upper case) are not served: they
        // would make names no client can ask for, or split into other names (issue #11 item 10).
        guard Self.isDNS1035Label(service.name), Self.isDNS1123Label(service.namespace), let base = serviceName(service) else {
            recordSkip("service \(service.namespace)/\(service.name): name is not a valid DNS label "
                + "(a Service name is an RFC 1035 label, a namespace an RFC 1123 label)")
            return
        }
        switch service.kind {
        case .clusterIP(let addresses):
            addClusterIPService(service, base: base, addresses: addresses, endpoints: endpoints)
        case .headless:
            addHeadlessService(service, base: base, endpoints: endpoints)
        case .externalName(let target):
            addExternalNameService(service, base: base, target: target)
        }
    }
}
