import DNSWire

/// Where a Service's records go. A unit's zone models (`ClusterRecordsBuilder`) take them, and
/// so does the plain list a full build compiles most Services from (`ServiceUnitNodes`, issue
/// #9: start-up). The rules below write to both, so both hold the same records in the same
/// order.
protocol ServiceRecordSink {
    var configuration: RegistryConfiguration { get }
    /// Makes `name` exist in the cluster zone, with the names between it and its namespace.
    mutating func addClusterName(_ name: DomainName)
    /// Adds a record to the cluster zone unless its node holds it already; a new node's
    /// ancestors come to exist too (RFC 8020).
    mutating func addClusterRecord(_ record: ResourceRecord)
    /// Adds a PTR record to reverse zone `zone` (0 `in-addr.arpa`, 1 `ip6.arpa`) unless its
    /// node holds it already.
    mutating func addReverseRecord(_ record: ResourceRecord, zone: Int)
}

extension ServiceRecordSink {
    /// k8s DNS spec §2.4.1: A/AAAA for each ClusterIP, SRV per named port pointing at the
    /// service name, PTR back from each ClusterIP. Endpoint names exist too (CoreDNS).
    mutating func addClusterIPService(
        _ service: Service, base: DomainName, addresses: [IPAddress], endpoints: [ResolvedEndpoint]
    ) {
        addClusterName(base)
        for address in addresses {
            addAddress(address, at: base)
            addPointer(from: address, to: base)
        }
        for port in service.ports {
            guard let owner = srvName(port.name, port.proto, base) else { continue }
            addSRVSet(at: owner, [(port.port, base)])
        }
        // A SRV query for the bare service name lists every port (CoreDNS extension).
        if !service.ports.isEmpty { addSRVSet(at: base, service.ports.map { ($0.port, base) }) }
        addEndpointNames(endpoints, base: base)
    }

    /// k8s DNS spec §2.4.2: one A/AAAA per ready endpoint address; SRV per named port with one
    /// record per endpoint, targeting the endpoint's own name. No ready endpoint → no name.
    mutating func addHeadlessService(_ service: Service, base: DomainName, endpoints: [ResolvedEndpoint]) {
        guard !endpoints.isEmpty else { return }
        for address in Set(endpoints.flatMap(\.endpoint.storedAddresses)).sorted() { addAddress(address, at: base) }
        let hosts = addEndpointNames(endpoints, base: base)
        var named: [DomainName: [(Int, DomainName)]] = [:]
        var all: [(Int, DomainName)] = []
        for (resolved, host) in zip(endpoints, hosts) {
            guard let host else { continue }
            for port in resolved.ports {
                all.append((port.port, host))
                if let owner = srvName(port.name, port.proto, base) { named[owner, default: []].append((port.port, host)) }
            }
        }
        for (owner, targets) in named { addSRVSet(at: owner, targets) }
        if !all.isEmpty { addSRVSet(at: base, all) }
    }

    /// Adds `<host>.<base>` for every endpoint and PTRs back to it; returns each endpoint's name.
    @discardableResult
    private mutating func addEndpointNames(_ endpoints: [ResolvedEndpoint], base: DomainName) -> [DomainName?] {
        endpoints.map { resolved in
            let addresses = resolved.endpoint.storedAddresses
            guard let first = addresses.first, let host = try? base.prepending(utf8Label: hostLabel(resolved.endpoint, first))
            else { return nil }
            for address in addresses {
                addAddress(address, at: host)
                addPointer(from: address, to: host)
            }
            return host
        }
    }

    /// An A or AAAA record of `address` at `owner` in the cluster zone.
    mutating func addAddress(_ address: IPAddress, at owner: DomainName) {
        addClusterRecord(ResourceRecord(name: owner, ttl: configuration.ttl, data: address.isIPv4 ? .a(address) : .aaaa(address)))
    }

    /// The PTR record from `address` back to `target`, when reverse answers are on.
    mutating func addPointer(from address: IPAddress, to target: DomainName) {
        guard configuration.reverse else { return }
        addReverseRecord(
            ResourceRecord(name: address.reverseDomainName, ttl: configuration.ttl, data: .ptr(target)), zone: address.isIPv4 ? 0 : 1)
    }

    /// One SRV record per target at `owner` in the cluster zone, sharing the weight.
    private mutating func addSRVSet(at owner: DomainName, _ targets: [(Int, DomainName)]) {
        for record in ClusterRecordsBuilder.srvRecords(at: owner, targets, ttl: configuration.ttl) { addClusterRecord(record) }
    }

    /// `_name._proto.<base>`; nil for unnamed ports, which get no SRV name (spec §2.4.1).
    func srvName(_ portName: String?, _ proto: TransportProtocol, _ base: DomainName) -> DomainName? {
        guard let portName, !portName.isEmpty else { return nil }
        return try? base.prepending(utf8Label: "_" + portName, then: proto.srvLabel)
    }

    /// The endpoint's DNS label: its `hostname`, else its pod's name with
    /// `--endpoint-pod-names` (when it fits a label), else its dashed address (CoreDNS).
    func hostLabel(_ endpoint: Endpoint, _ address: IPAddress) -> String {
        Self.hostLabel(endpoint, address, endpointPodNames: configuration.endpointPodNames)
    }

    static func hostLabel(_ endpoint: Endpoint, _ address: IPAddress, endpointPodNames: Bool) -> String {
        if let hostname = endpoint.hostname, ClusterRecordsBuilder.isValidLabel(hostname) { return hostname }
        if endpointPodNames, let pod = endpoint.podName, pod.utf8.count < 64, ClusterRecordsBuilder.isValidLabel(pod) {
            return pod
        }
        return address.dashed
    }
}
