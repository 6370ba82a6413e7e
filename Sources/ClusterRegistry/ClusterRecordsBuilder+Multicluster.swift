import DNSWire

/// The clusterset zone of `--multicluster` (KEP-1645 Multi-Cluster Services DNS specification,
/// schema 1.0.0): ServiceImports and their EndpointSlices, built by the same units as the
/// cluster zone (a ServiceImport's names by the unit of its namespace and name).
extension ClusterRecordsBuilder {
    /// `<zone>` SOA and NS (ours, as for the cluster zone), `dns-version.<zone>` TXT "1.0.0"
    /// (KEP-1645 spec §2.2; CoreDNS's `multicluster` says "1.1.0" there), and `svc.<zone>`.
    mutating func addMulticlusterApex() {
        guard var zone = multicluster else { return }
        let apex = zone.apex
        zone.add(zone.soa)
        if let nameserver = try? configuration.domain.prepending(labels: [Array("dns".utf8)[...]]).prepending("ns") {
            zone.add(ResourceRecord(name: apex, ttl: configuration.ttl, data: .ns(nameserver)))
        }
        if let version = try? apex.prepending("dns-version") {
            let text = Array(RegistryConfiguration.multiclusterSchemaVersion.utf8)
            zone.add(ResourceRecord(name: version, ttl: RegistryConfiguration.versionTTL, data: .txt([text])))
        }
        if let services = try? apex.prepending("svc") { zone.addName(services) }
        multicluster = zone
    }

    /// `<ns>.svc.<zone>` exists while the namespace does, as in the cluster zone.
    mutating func addMulticlusterNamespace(_ namespace: String) {
        guard let apex = multicluster?.apex, let name = try? apex.prepending(labels: [Array("svc".utf8)[...]]).prepending(namespace)
        else { return }
        multicluster?.addName(name)
    }

    /// One ServiceImport's names (spec §2.3, §2.4):
    /// - ClusterSetIP: A/AAAA of `spec.ips` at `<svc>.<ns>.svc.<zone>`, SRV per named port
    ///   targeting it, and the bare name's SRV listing every port;
    /// - Headless: every ready endpoint address of every cluster at the Service name (none ready:
    ///   no name, so NXDOMAIN), `<hostname>.<clusterid>.<svc>.<ns>.svc.<zone>` per endpoint (its
    ///   `hostname`, else its address dashed, as CoreDNS and mcs-api's conformance test name it),
    ///   and SRV per endpoint and named port targeting those names.
    /// Identical SRV records (two ports of one number, TCP and UDP) are kept once, as mcs-api's
    /// conformance test expects.
    mutating func addServiceImport(_ serviceImport: Service, endpoints: [(endpoint: ResolvedEndpoint, cluster: String)]) {
        guard let apex = multicluster?.apex else { return }
        guard Self.isDNS1035Label(serviceImport.name), Self.isDNS1123Label(serviceImport.namespace),
              let base = try? apex.prepending(labels: [Array("svc".utf8)[...]]).prepending(serviceImport.namespace)
                  .prepending(serviceImport.name)
        else {
            recordSkip("serviceimport \(serviceImport.namespace)/\(serviceImport.name): name is not a valid DNS label")
            return
        }
        switch serviceImport.kind {
        case .clusterIP(let addresses):
            multicluster?.addName(base)
            for address in addresses {
                addAddressRecord(address, at: base, in: \.multicluster!)
                addPointer(from: address, to: base)
            }
            for port in serviceImport.ports {
                guard let owner = srvName(port.name, port.proto, base) else { continue }
                addSRV(at: owner, [(port.port, base)], in: \.multicluster!)
            }
            if !serviceImport.ports.isEmpty { addSRV(at: base, serviceImport.ports.map { ($0.port, base) }, in: \.multicluster!) }
        case .headless:
            guard !endpoints.isEmpty else { return }
            for address in Set(endpoints.flatMap(\.endpoint.endpoint.addresses)).sorted() { addAddressRecord(address, at: base, in: \.multicluster!) }
            var named: [DomainName: [(Int, DomainName)]] = [:]
            var all: [(Int, DomainName)] = []
            for (resolved, cluster) in endpoints {
                guard let first = resolved.endpoint.addresses.first else { continue }
                // A cluster id may be two labels (`<name>.<registry>`, KEP-1645 "Terminology").
                let clusterLabels = cluster.split(separator: ".", omittingEmptySubsequences: false)
                guard clusterLabels.allSatisfy({ Self.isDNS1123Label(String($0)) }),
                      let host = try? base.prepending(labels: ([hostLabel(resolved.endpoint, first)] + clusterLabels.map(String.init))
                          .map { Array($0.utf8)[...] })
                else {
                    recordSkip("serviceimport \(serviceImport.namespace)/\(serviceImport.name): cluster id \"\(cluster)\" is not a DNS name; its endpoints get no names")
                    continue
                }
                for address in resolved.endpoint.addresses {
                    addAddressRecord(address, at: host, in: \.multicluster!)
                    addPointer(from: address, to: host)
                }
                for port in resolved.ports {
                    all.append((port.port, host))
                    if let owner = srvName(port.name, port.proto, base) { named[owner, default: []].append((port.port, host)) }
                }
            }
            for (owner, targets) in named { addSRV(at: owner, targets, in: \.multicluster!) }
            if !all.isEmpty { addSRV(at: base, all, in: \.multicluster!) }
        case .externalName:
            break  // not exportable (KEP-1645 "Service Types"); the decoder never makes one
        }
    }
}
