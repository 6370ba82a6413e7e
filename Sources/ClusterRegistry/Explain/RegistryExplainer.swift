import DNSWire

/// Why the registry answers a name the way it does (`clusterdns explain`): for each record
/// of an answer, the object and field it comes from; for a name without an answer, what is
/// missing, in words. Reads the objects the answers were built from; never the answers
/// themselves, which the responder gives.
public struct RegistryExplainer {
    let objects: ClusterObjects
    let staticZones: [ZoneModel]
    var configuration: RegistryConfiguration { objects.configuration }

    public init(_ registry: SegmentedRegistry) {
        objects = registry.objects
        staticZones = registry.staticZones
    }

    // MARK: - Where a record comes from

    /// The object and field `record` comes from, for people.
    public func origin(of record: ResourceRecord) -> String {
        let owner = record.name.lowercased()
        switch record.data {
        case .ptr(let target):
            return "reverse of " + (addressOrigin(address(in: owner), at: target.lowercased()) ?? "\(target)")
        case .soa: return "the zone's SOA: its serial changes with every change served"
        case .ns: return "this server, the zone's nameserver"
        case .txt where owner.labels.first.map({ $0.elementsEqual("dns-version".utf8) }) == true:
            return "the schema version of the DNS specification served in this zone"
        default: break
        }
        if let file = staticZones.first(where: { owner.isSubdomain(of: $0.apex) }) {
            return "zone file of \(file.apex) (--zones)"
        }
        if configuration.aliasDomains.contains(where: { owner.isSubdomain(of: $0) }) {
            return aliasOrigin(owner, record: record)
        }
        switch record.data {
        case .a(let address), .aaaa(let address):
            if owner == (try? configuration.domain.prepending("dns").prepending("ns")) { return "this server's address (--listen)" }
            return addressOrigin(address, at: owner) ?? "—"
        case .srv(let srv):
            return srvOrigin(owner, srv) ?? "—"
        case .cname:
            guard let place = place(of: owner), let service = place.service else { return "—" }
            return describe(service, field: "spec.externalName")
        default:
            return "—"
        }
    }

    /// Where `address` at `name` comes from: a ClusterIP, a ServiceImport's IP, an endpoint,
    /// a pod.
    func addressOrigin(_ address: IPAddress?, at name: DomainName) -> String? {
        guard let address, let place = place(of: name) else { return nil }
        if place.isPod {
            let pod = objects.pods(in: place.namespace).first { $0.ips.contains(address) }
            return pod.map { "Pod \($0.namespace)/\($0.name) status.podIPs" + Self.at($0.source) }
        }
        if place.multicluster {
            guard let serviceImport = objects.serviceImports(place.namespace, place.name).first else { return nil }
            if place.below == 0, case .clusterIP(let addresses) = serviceImport.kind, let index = addresses.firstIndex(of: address) {
                return "ServiceImport \(serviceImport.namespace)/\(serviceImport.name) spec.ips[\(index)]"
            }
            return importEndpointOrigin(address, place)
        }
        guard let service = place.service else { return nil }
        if place.below == 0, case .clusterIP(let addresses) = service.kind, let index = addresses.firstIndex(of: address) {
            return describe(service, field: "spec.clusterIPs[\(index)]")
        }
        return endpointOrigins(of: service, address: address, host: place.below == 1 ? place.labels.first : nil).first
    }

    private func srvOrigin(_ owner: DomainName, _ srv: SRVData) -> String? {
        guard let place = place(of: owner) else { return nil }
        let ports: [ServicePort]
        let what: String
        if place.multicluster {
            guard let serviceImport = objects.serviceImports(place.namespace, place.name).first else { return nil }
            ports = serviceImport.ports
            what = "ServiceImport \(serviceImport.namespace)/\(serviceImport.name)"
        } else {
            guard let service = place.service else { return nil }
            ports = service.ports
            what = "Service \(service.namespace)/\(service.name)"
        }
        let wanted = place.below == 2 ? place.labels.first.map { String(decoding: $0.dropFirst(), as: UTF8.self) } : nil
        let index = ports.firstIndex { port in Int(srv.port) == port.port && (wanted == nil || port.name?.lowercased() == wanted) }
        let port = index.map { "\(what) spec.ports[\($0)] (\(ports[$0].name ?? "unnamed") \(ports[$0].port)/\(ports[$0].proto.rawValue))" }
            ?? "\(what): port \(srv.port) of its endpoints"
        let located = port + (place.service.map { Self.at($0.source) } ?? "")
        let target = srv.target.lowercased()
        if target == place.base { return located }
        return located + "; target " + (self.place(of: target).flatMap { targetPlace in
            targetPlace.multicluster ? importEndpointOrigin(nil, targetPlace)
                : targetPlace.service.flatMap { endpointOrigins(of: $0, address: nil, host: targetPlace.labels.first).first }
        } ?? "\(target)")
    }

    private func aliasOrigin(_ owner: DomainName, record: ResourceRecord) -> String {
        guard let unit = objects.aliasOwner(owner), let service = objects.services(unit.namespace, unit.name).first else {
            return "an alias (clusterdns.io/aliases)"
        }
        let same: String?
        switch record.data {
        case .a(let address), .aaaa(let address):
            let base = try? configuration.domain.prepending(labels: [Array("svc".utf8)[...]]).prepending(unit.namespace).prepending(unit.name)
            same = base.flatMap { addressOrigin(address, at: $0) }
        case .cname: same = describe(service, field: "spec.externalName")
        default: same = nil
        }
        return "alias in " + describe(service, field: "metadata.annotations[\"\(ServiceAliases.annotation)\"]") + (same.map { "; " + $0 } ?? "")
    }

    /// The endpoints of `service` with `address` (or named `host`), as "EndpointSlice …
    /// endpoints[i] (ready, hostname h)".
    func endpointOrigins(of service: Service, address: IPAddress?, host: ArraySlice<UInt8>?) -> [String] {
        let names = objects.namespaces[service.namespace.dnsLowercased]?.names[service.name.dnsLowercased]
        let groups = (names?.slices ?? []).nonEmptyArray ?? (names?.endpoints ?? [])
        var found: [String] = []
        let builder = ClusterRecordsBuilder.empty(configuration: configuration, serial: 0)
        for keyed in groups {
            for (index, endpoint) in keyed.value.endpoints.enumerated() {
                guard endpoint.ready || service.publishNotReadyAddresses, let first = endpoint.addresses.first else { continue }
                if let address, !endpoint.addresses.contains(address) { continue }
                if let host, !builder.hostLabel(endpoint, first).lowercased().utf8.elementsEqual(host) { continue }
                let kind = keyed.value.origin == .endpoints ? "Endpoints" : "EndpointSlice"
                found.append("\(kind) \(Self.identity(keyed.key, fallback: "of \(service.namespace)/\(service.name)")) endpoints[\(index)] "
                    + "(\(Self.conditions(endpoint)))" + Self.at(keyed.value.source))
            }
        }
        if found.isEmpty, let address {
            let pod = objects.pods(in: service.namespace.dnsLowercased).first { $0.ips.contains(address) }
            if let pod {
                found.append("Pod \(pod.namespace)/\(pod.name) matching Service \(service.namespace)/\(service.name) spec.selector" + Self.at(pod.source))
            }
        }
        return found
    }

    private func importEndpointOrigin(_ address: IPAddress?, _ place: Place) -> String? {
        let slices = objects.namespaces[place.namespace]?.names[place.name]?.importSlices ?? []
        let builder = ClusterRecordsBuilder.empty(configuration: configuration, serial: 0)
        for keyed in slices {
            guard case .multiclusterSlice(let cluster) = keyed.value.origin else { continue }
            for (index, endpoint) in keyed.value.endpoints.enumerated() where endpoint.ready {
                if let address, !endpoint.addresses.contains(address) { continue }
                if address == nil, let first = endpoint.addresses.first,
                   !builder.hostLabel(endpoint, first).lowercased().utf8.elementsEqual(place.labels.first ?? []) { continue }
                return "EndpointSlice \(Self.identity(keyed.key, fallback: "of \(place.namespace)/\(place.name)")) "
                    + "endpoints[\(index)] (cluster \(cluster), \(Self.conditions(endpoint)))" + Self.at(keyed.value.source)
            }
        }
        return nil
    }

    // MARK: - Why a name has no answer

    /// What the objects say about a name that is NXDOMAIN, or NODATA for `type`.
    public func whyNoAnswer(_ name: DomainName, type: RecordType, nameExists: Bool) -> [String] {
        let name = name.lowercased()
        guard let place = place(of: name) else {
            if name.isSubdomain(of: configuration.domain) {
                return ["`\(name)` is not a name of the cluster zone: names there are <service>.<namespace>.svc.\(configuration.domain) "
                    + "and <address>.<namespace>.pod.\(configuration.domain)"]
            }
            return nameExists ? ["`\(name)` exists without \(type) records"] : ["no such name in our zones"]
        }
        let zone = place.multicluster ? configuration.multicluster ?? configuration.domain : configuration.domain
        if !configuration.exposes(namespace: place.namespace) {
            let exposed = (configuration.namespaces ?? []).sorted().joined(separator: ",")
            return ["namespace `\(place.namespace)` is not exposed (--namespaces \(exposed))"]
        }
        guard objects.namespaceExists(place.namespace) else {
            return ["no namespace `\(place.namespace)`" + Self.didYouMean(place.namespace, among: objects.namespaceNames)]
        }
        if place.isPod {
            if configuration.pods == .disabled { return ["pod names are off (--pods disabled)"] }
            return ["no pod with that address in `\(place.namespace)` (--pods verified answers pods that exist only)"]
        }
        guard !place.name.isEmpty else {
            return nameExists ? ["`\(name)` exists (namespace `\(place.namespace)`) but holds no records"] : ["no such name"]
        }
        if place.multicluster { return whyNoImportAnswer(place, type: type, nameExists: nameExists) }
        guard let service = place.service else {
            let names = objects.namespaces[place.namespace]?.names.filter { !$0.value.services.isEmpty }.map(\.key).sorted() ?? []
            var reasons = ["no Service `\(place.name)` in `\(place.namespace)`" + Self.didYouMean(place.name, among: names)]
            if !objects.serviceImports(place.namespace, place.name).isEmpty, let multicluster = configuration.multicluster {
                reasons.append("a ServiceImport of that name exists: its names are in \(multicluster)")
            }
            return reasons
        }
        let ready = objects.endpoints(of: service)
        let all = endpointCount(of: service)
        switch place.below {
        case 0:
            switch service.kind {
            case .headless where ready.isEmpty:
                return ["headless Service `\(service.name)` has \(all) endpoint\(all == 1 ? "" : "s"), none ready"]
            case .clusterIP(let addresses) where addresses.isEmpty:
                return ["Service `\(service.name)` has no ClusterIP yet (spec.clusterIP is empty: a manifest never applied)"]
            case .clusterIP(let addresses):
                let families = Set(addresses.map { $0.isIPv4 ? "IPv4" : "IPv6" }).sorted().joined(separator: " and ")
                return ["`\(name)` holds Service `\(service.name)`'s \(families) ClusterIP\(addresses.count == 1 ? "" : "s"), no \(type) records"]
            default:
                return ["`\(name)` exists without \(type) records"]
            }
        case 1:
            let label = String(decoding: place.labels[0], as: UTF8.self)
            let builder = ClusterRecordsBuilder.empty(configuration: configuration, serial: 0)
            let hosts = ready.compactMap { resolved in resolved.endpoint.addresses.first.map { builder.hostLabel(resolved.endpoint, $0) } }
            if nameExists { return ["endpoint `\(label)` of Service `\(service.name)` has no \(type) address"] }
            return ["no ready endpoint named `\(label)` in Service `\(service.name)`"
                + (hosts.isEmpty ? " (it has none ready)" : "; its endpoint names: " + hosts.sorted().joined(separator: ", "))]
        case 2:
            return whyNoSRV(place, ports: service.ports, what: "Service `\(service.name)`", endpointPorts: ready.flatMap(\.ports), zone: zone)
        default:
            return ["no such name below Service `\(service.name)`"]
        }
    }

    private func whyNoImportAnswer(_ place: Place, type: RecordType, nameExists: Bool) -> [String] {
        guard let serviceImport = objects.serviceImports(place.namespace, place.name).first else {
            let names = objects.namespaces[place.namespace]?.names.filter { !$0.value.imports.isEmpty }.map(\.key).sorted() ?? []
            return ["no ServiceImport `\(place.name)` in `\(place.namespace)`" + Self.didYouMean(place.name, among: names)]
        }
        let ready = objects.importEndpoints(place.namespace, place.name)
        switch (place.below, serviceImport.kind) {
        case (0, .headless) where ready.isEmpty:
            let all = (objects.namespaces[place.namespace]?.names[place.name]?.importSlices ?? []).reduce(0) { $0 + $1.value.endpoints.count }
            return ["headless ServiceImport `\(serviceImport.name)` has \(all) endpoint\(all == 1 ? "" : "s") in its clusters, none ready"]
        case (2, _):
            return whyNoSRV(place, ports: serviceImport.ports, what: "ServiceImport `\(serviceImport.name)`", endpointPorts: [], zone: configuration.multicluster!)
        case (0, _):
            return ["`\(place.base)` exists without \(type) records"]
        case (_, .clusterIP):
            return ["ClusterSetIP imports have no per-endpoint names (KEP-1645 §2.3.4)"]
        default:
            return ["no ready endpoint by that name and cluster id in ServiceImport `\(serviceImport.name)`"]
        }
    }

    private func whyNoSRV(_ place: Place, ports: [ServicePort], what: String, endpointPorts: [EndpointPort], zone: DomainName) -> [String] {
        let portLabel = String(decoding: place.labels[0].dropFirst(), as: UTF8.self)
        let protoLabel = String(decoding: place.labels[1].dropFirst(), as: UTF8.self)
        if let port = ports.first(where: { $0.name?.lowercased() == portLabel }) {
            return ["port `\(portLabel)` of \(what) is \(port.proto.rawValue): ask _\(portLabel).\(port.proto.srvLabel)"]
        }
        if endpointPorts.contains(where: { $0.name?.lowercased() == portLabel }) {
            return ["`_\(portLabel)._\(protoLabel)`: port `\(portLabel)` exists in the endpoints but is unnamed in the \(what.split(separator: " ")[0])"]
        }
        let listed = ports.map { "\($0.name ?? "(unnamed)") \($0.port)/\($0.proto.rawValue)" }.joined(separator: ", ")
        let unnamed = ports.filter { ($0.name ?? "").isEmpty }.count
        return ["\(what) has no port named `\(portLabel)`; SRV names exist for named ports only"
            + (ports.isEmpty ? " and it has no ports" : "; its ports: \(listed)")
            + (unnamed > 0 ? " (\(unnamed) unnamed, with no SRV name)" : "")]
    }

    // MARK: - Names and objects

    /// A name of the cluster or clusterset zone, split the way units are: namespace, Service
    /// name, and the labels below the Service name.
    struct Place {
        var namespace: String
        /// Empty for the namespace-level names.
        var name: String
        var isPod = false
        var multicluster = false
        /// Labels below the Service name, leftmost first.
        var labels: [ArraySlice<UInt8>] = []
        var below: Int { labels.count }
        var base: DomainName
        var service: Service?
    }

    func place(of name: DomainName) -> Place? {
        let name = name.lowercased()
        for (zone, multicluster) in [(configuration.domain, false)] + (configuration.multicluster.map { [($0, true)] } ?? []) {
            guard name.isSubdomain(of: zone) else { continue }
            let below = name.labelCount - zone.labelCount
            guard below >= 2 else { return nil }
            let labels = name.labels
            let kind = String(decoding: labels[below - 1], as: UTF8.self)
            let namespace = String(decoding: labels[below - 2], as: UTF8.self)
            if kind == "pod", !multicluster {
                return Place(namespace: namespace, name: "", isPod: below >= 3, labels: Array(labels.prefix(below - 2)), base: name)
            }
            guard kind == "svc" else { return nil }
            guard below >= 3 else { return Place(namespace: namespace, name: "", multicluster: multicluster, base: name) }
            let service = String(decoding: labels[below - 3], as: UTF8.self)
            guard let base = try? DomainName(wire: Array(name.wire.suffix(from: labels.prefix(below - 3).reduce(0) { $0 + $1.count + 1 })))
            else { return nil }
            return Place(
                namespace: namespace, name: service, multicluster: multicluster, labels: Array(labels.prefix(below - 3)), base: base,
                service: multicluster ? nil : objects.services(namespace, service).first)
        }
        return nil
    }

    private func address(in reverseName: DomainName) -> IPAddress? { IPAddress(reverseDomainName: reverseName) }

    /// "Service ns/name FIELD", then the manifest location when there is one.
    func describe(_ service: Service, field: String) -> String {
        "Service \(service.namespace)/\(service.name) \(field)" + Self.at(service.source)
    }

    /// `ns/name` from an API key (`endpointSlices/ns/name`); a manifest's slices are known by
    /// their Service (and location) only.
    static func identity(_ key: ObjectKey, fallback: String) -> String {
        let parts = key.origin.split(separator: "/")
        return !key.isManifest && parts.count == 3 ? "\(parts[1])/\(parts[2])" : fallback
    }

    private func endpointCount(of service: Service) -> Int {
        let names = objects.namespaces[service.namespace.dnsLowercased]?.names[service.name.dnsLowercased]
        let groups = (names?.slices ?? []).nonEmptyArray ?? (names?.endpoints ?? [])
        return groups.reduce(0) { $0 + $1.value.endpoints.count }
    }

    private static func conditions(_ endpoint: Endpoint) -> String {
        (endpoint.ready ? "ready" : "not ready") + (endpoint.hostname.map { ", hostname \($0)" } ?? "")
    }

    /// " — file: document N, line L" for an object from a manifest; nothing for the API's.
    static func at(_ source: SourceLocation?) -> String { source.map { " — \($0)" } ?? "" }

    /// "; did you mean `x`?" for the closest of `names` within two edits, else nothing.
    static func didYouMean(_ name: String, among names: [String]) -> String {
        let scored = names.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= 2 && $0.0 != name }
        guard let best = scored.min(by: { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }) else { return "" }
        return "; did you mean `\(best.0)`?"
    }

    /// Levenshtein distance, with a transposition counted once (Damerau's "optimal string
    /// alignment"): `serivce` is one edit from `service`.
    static func editDistance(_ left: String, _ right: String) -> Int {
        let a = Array(left.utf8), b = Array(right.utf8)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1) }
            }
        }
        return table[a.count][b.count]
    }
}

extension Array {
    fileprivate var nonEmptyArray: Self? { isEmpty ? nil : self }
}
