import DNSWire

extension ManifestDecoder {
    /// The label that ties an EndpointSlice to its Service.
    static let serviceNameLabel = "kubernetes.io/service-name"

    // MARK: - core/v1 Endpoints

    /// One `EndpointGroup` per subset: `addresses` are ready, `notReadyAddresses` are not
    /// (k8s DNS spec: only ready endpoints are published unless publishNotReadyAddresses).
    mutating func decodeEndpoints<Object: ManifestMapping>(_ object: Object) -> [EndpointGroup] {
        let meta = metadata(object)
        guard let subsets = sequence(object.field("subsets"), at: "subsets") else { return [] }
        let triggerTime = Self.lastChangeTriggerTime(object)
        var groups: [EndpointGroup] = []
        groups.reserveCapacity(subsets.count)
        for (index, node) in subsets.enumerated() {
            guard let subset = mapping(node, at: "subsets[\(index)]") else { continue }
            var endpoints: [Endpoint] = []
            for (field, ready) in [("addresses", true), ("notReadyAddresses", false)] {
                guard let list = sequence(subset.field(field), at: "subsets[\(index)].\(field)") else { continue }
                for (position, address) in list.enumerated() {
                    let path = "subsets[\(index)].\(field)[\(position)]"
                    if let endpoint = endpointAddress(address, ready: ready, at: path) { endpoints.append(endpoint) }
                }
            }
            var ports: [EndpointPort] = []
            if let list = sequence(subset.field("ports"), at: "subsets[\(index)].ports") {
                for (position, port) in list.enumerated() {
                    if let entry = portEntry(port, portRequired: true, at: "subsets[\(index)].ports[\(position)]") {
                        ports.append(EndpointPort(name: entry.name, port: entry.port, proto: entry.proto))
                    }
                }
            }
            if let meta {
                groups.append(EndpointGroup(
                    serviceName: meta.name, namespace: meta.namespace, origin: .endpoints,
                    endpoints: endpoints, ports: ports, source: source,
                    lastChangeTriggerTime: triggerTime
                ))
            }
        }
        return groups
    }

    private mutating func endpointAddress<Node: ManifestNode>(_ node: Node, ready: Bool, at path: String) -> Endpoint? {
        guard let address = mapping(node, at: path) else { return nil }
        let ip = ipAddress(required(address, "ip", at: "\(path).ip"), at: "\(path).ip")
        let hostname = text(address.field("hostname"), at: "\(path).hostname")
        let podName = podName(address.field("targetRef"), at: "\(path).targetRef")
        guard let ip else { return nil }
        return Endpoint(
            addresses: [ip], hostname: Self.nonEmpty(hostname), podName: Self.nonEmpty(podName), ready: ready
        )
    }

    // MARK: - discovery.k8s.io EndpointSlice

    /// One `EndpointGroup` per slice. FQDN slices keep their ports but no endpoints: DNS
    /// publishes IP endpoints only.
    mutating func decodeEndpointSlice<Object: ManifestMapping>(_ object: Object) -> EndpointGroup? {
        let meta = metadata(object, labels: true)
        let multicluster = meta.flatMap { multiclusterSlice($0) }
        let serviceName = multicluster?.serviceName ?? meta.flatMap { sliceServiceName($0) }
        let typeNode = required(object, "addressType", at: "addressType")
        let addressType = text(typeNode, at: "addressType")
        var family: Bool?  // IPv4?
        switch addressType {
        case "IPv4": family = true
        case "IPv6": family = false
        case "FQDN", nil: family = nil
        case let other?:
            report("addressType", line: typeNode?.line, "expected IPv4, IPv6 or FQDN, got \"\(other)\"")
        }
        var endpoints: [Endpoint] = []
        if let family, let list = sequence(object.field("endpoints"), at: "endpoints"),
           within(list, Self.maxSliceEndpoints, "endpoints", line: object.field("endpoints")?.line) {
            endpoints.reserveCapacity(list.count)
            for (index, node) in list.enumerated() {
                if let endpoint = sliceEndpoint(node, isIPv4: family, index: index) { endpoints.append(endpoint) }
            }
        }
        var ports: [EndpointPort] = []
        if let list = sequence(object.field("ports"), at: "ports"),
           within(list, Self.maxSlicePorts, "ports", line: object.field("ports")?.line) {
            for (index, node) in list.enumerated() {
                if let entry = portEntry(node, portRequired: false, at: "ports[\(index)]") {
                    ports.append(EndpointPort(name: entry.name, port: entry.port, proto: entry.proto))
                }
            }
        }
        guard let meta, let serviceName else { return nil }
        return EndpointGroup(
            serviceName: serviceName, namespace: meta.namespace,
            origin: multicluster.map { .multiclusterSlice(sourceCluster: $0.cluster) } ?? .endpointSlice,
            endpoints: endpoints, ports: ports, source: source,
            lastChangeTriggerTime: Self.lastChangeTriggerTime(object)
        )
    }

    /// The API server's own bounds on an EndpointSlice (discovery/v1 validation): a slice
    /// beyond them cannot come from a cluster, and is an error for that object.
    static let maxSliceEndpoints = 1_000
    static let maxSlicePorts = 100

    /// Whether `list` has at most `limit` items; reports the field when it has more.
    private mutating func within(_ list: some Collection, _ limit: Int, _ field: String, line: Int?) -> Bool {
        guard list.count > limit else { return true }
        report(field, line: line, "\(list.count) items; an EndpointSlice may have at most \(limit)")
        return false
    }

    static let multiclusterServiceNameLabel = "multicluster.kubernetes.io/service-name"
    static let sourceClusterLabel = "multicluster.kubernetes.io/source-cluster"

    /// A ServiceImport's slice (KEP-1645): its ServiceImport and the cluster its endpoints are
    /// in, from the multicluster labels; nil for a cluster's own slice.
    private mutating func multiclusterSlice(_ meta: ObjectMeta) -> (serviceName: String, cluster: String)? {
        guard let name = meta.labels?[Self.multiclusterServiceNameLabel], !name.isEmpty else { return nil }
        guard let cluster = meta.labels?[Self.sourceClusterLabel], !cluster.isEmpty else {
            report("metadata.labels[\"\(Self.sourceClusterLabel)\"]", line: meta.labelsLine ?? meta.line,
                   "required label is missing: a multicluster EndpointSlice names the cluster its endpoints are in")
            return nil
        }
        return (name, cluster)
    }

    private mutating func sliceServiceName(_ meta: ObjectMeta) -> String? {
        if let name = meta.labels?[Self.serviceNameLabel], !name.isEmpty { return name }
        report("metadata.labels[\"\(Self.serviceNameLabel)\"]", line: meta.labelsLine ?? meta.line,
               "required label is missing: it names the Service this EndpointSlice belongs to")
        return nil
    }

    private mutating func sliceEndpoint<Node: ManifestNode>(_ node: Node, isIPv4: Bool, index: Int) -> Endpoint? {
        guard let endpoint = mapping(node, at: "endpoints[\(index)]") else { return nil }
        var addresses: [IPAddress] = []
        if let list = sequence(required(endpoint, "addresses", at: "endpoints[\(index)].addresses"),
                               at: "endpoints[\(index)].addresses") {
            addresses.reserveCapacity(list.count)
            for (position, node) in list.enumerated() {
                guard let address = ipAddress(node, at: "endpoints[\(index)].addresses[\(position)]") else { continue }
                if address.isIPv4 == isIPv4 {
                    addresses.append(address)
                } else {
                    report("endpoints[\(index)].addresses[\(position)]", line: node.line,
                           "not an \(isIPv4 ? "IPv4" : "IPv6") address (the slice's addressType): \(node.shownValue)")
                }
            }
        }
        let conditions = mapping(endpoint.field("conditions"), at: "endpoints[\(index)].conditions")
        // EndpointSlice API: a nil `ready` condition means ready.
        let ready = bool(conditions?.field("ready"), at: "endpoints[\(index)].conditions.ready") ?? true
        let hostname = text(endpoint.field("hostname"), at: "endpoints[\(index)].hostname")
        let podName = podName(endpoint.field("targetRef"), at: "endpoints[\(index)].targetRef")
        return Endpoint(
            addresses: addresses, hostname: Self.nonEmpty(hostname), podName: Self.nonEmpty(podName), ready: ready
        )
    }
}
