import DNSWire

/// Turns Kubernetes objects into the records of the cluster zone and the reverse zones,
/// following the Kubernetes DNS specification 1.1.0 and, where it is silent, CoreDNS's
/// `kubernetes` plugin. Pure: same objects and configuration, same zones.
public struct ClusterRecordsBuilder: Sendable {
    public let configuration: RegistryConfiguration
    public let serial: UInt32
    var cluster: ZoneModel
    var reverse: [ZoneModel]
    var skipped: [String] = []

    /// Builds the zones: the cluster zone first, then `in-addr.arpa` and `ip6.arpa` when
    /// reverse answers are on. `warnings` lists objects that produce no names and why.
    /// Services at which the work is split over two threads (`parallel` nil); tests force it.
    static let parallelThreshold = 5_000

    public static func build(
        objects: [KubernetesObject], configuration: RegistryConfiguration, serial: UInt32
    ) -> (zones: [ZoneModel], warnings: [String]) {
        build(objects: objects, configuration: configuration, serial: serial, parallel: nil)
    }

    static func build(
        objects: [KubernetesObject], configuration: RegistryConfiguration, serial: UInt32, parallel: Bool?
    ) -> (zones: [ZoneModel], warnings: [String]) {
        let index = ClusterIndex(objects: objects, configuration: configuration)
        let services = index.services
        let shares = parallel ?? (services.count >= parallelThreshold) ? 2 : 1
        // Each share builds zones of its own from a contiguous run of services; the second is
        // then merged into the first, which gives the zones one builder would have made.
        let builders = concurrentMap(count: shares) { share in
            var builder = ClusterRecordsBuilder(configuration: configuration, serial: serial)
            let range = (services.count * share / shares)..<(services.count * (share + 1) / shares)
            builder.add(services[range], from: index, first: share == 0)
            return builder
        }
        var builder = builders[0]
        for other in builders.dropFirst() {
            builder.cluster.merge(other.cluster)
            for zone in builder.reverse.indices { builder.reverse[zone].merge(other.reverse[zone]) }
            builder.skipped += other.skipped
        }
        return ([builder.cluster] + (configuration.reverse ? builder.reverse : []), builder.skipped)
    }

    /// The apex and namespaces (`first` share only) and `services`.
    private mutating func add(_ services: ArraySlice<Service>, from index: ClusterIndex, first: Bool) {
        // A ClusterIP service yields about five records and two PTRs; headless ones more.
        cluster.reserveCapacity(records: services.count * 5)
        for zone in reverse.indices { reverse[zone].reserveCapacity(records: services.count * 2) }
        if first {
            addApex()
            addNamespaces(index)
        }
        for service in services { addService(service, endpoints: index.endpoints(of: service)) }
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
        try? base.prepending(labels: parts.map { Array($0.utf8)[...] })
    }

    private mutating func addApex() {
        let apex = configuration.domain
        cluster.add(cluster.soa)
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

    private mutating func addNamespaces(_ index: ClusterIndex) {
        let apex = configuration.domain
        guard let services = name("svc", under: apex), let pods = name("pod", under: apex) else { return }
        cluster.addName(services)
        if configuration.pods != .disabled { cluster.addName(pods) }
        for namespace in index.namespaces.sorted() {
            if let node = name(namespace, under: services) { cluster.addName(node) }
            guard configuration.pods != .disabled, let podNamespace = name(namespace, under: pods) else { continue }
            cluster.addName(podNamespace)
            if configuration.pods == .insecure { cluster.podNamespaces.insert(podNamespace) }
        }
        guard configuration.pods == .verified else { return }
        for pod in index.pods {
            for address in pod.ips {
                if let owner = name(address.dashed, pod.namespace, under: pods) { addAddressRecord(address, at: owner) }
            }
        }
    }

    mutating func addAddressRecord(_ address: IPAddress, at owner: DomainName) {
        cluster.add(ResourceRecord(name: owner, ttl: ttl, data: address.isIPv4 ? .a(address) : .aaaa(address)))
    }

    mutating func addPointerRecord(from address: IPAddress, to target: DomainName) {
        guard configuration.reverse else { return }
        let owner = address.reverseDomainName
        let zoneIndex = address.isIPv4 ? 0 : 1
        reverse[zoneIndex].add(ResourceRecord(name: owner, ttl: ttl, data: .ptr(target)))
    }

    /// SRV weights: equal shares of 100 (CoreDNS), never 0 so every target stays eligible.
    static func weight(sharedBy count: Int) -> UInt16 { UInt16(max(1, 100 / max(count, 1))) }

    mutating func addSRV(at owner: DomainName, _ targets: [(Int, DomainName)]) {
        let weight = Self.weight(sharedBy: targets.count)
        for (port, target) in targets {
            let data = SRVData(priority: 0, weight: weight, port: UInt16(clamping: port), target: target)
            cluster.add(ResourceRecord(name: owner, ttl: ttl, data: .srv(data)))
        }
    }

    mutating func addCNAME(at owner: DomainName, to target: DomainName) {
        cluster.add(ResourceRecord(name: owner, ttl: ttl, data: .cname(target)))
    }

    mutating func recordSkip(_ reason: String) { skipped.append(reason) }

    private func serviceName(_ service: Service) -> DomainName? {
        name(service.name, service.namespace, "svc", under: configuration.domain)
    }

    mutating func addService(_ service: Service, endpoints: [ClusterIndex.ResolvedEndpoint]) {
        guard let base = serviceName(service) else {
            recordSkip("service \(service.namespace)/\(service.name): name is not a valid DNS name")
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
