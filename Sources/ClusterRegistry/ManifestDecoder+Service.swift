import DNSWire

extension ManifestDecoder {
    /// Ports per Service (issue #11: every input bounded). The API server sets no bound of its
    /// own; this one is far above real Services and keeps one object's SRV names (a name and
    /// an RRset per port) within reason.
    static let maxServicePorts = 1_000

    mutating func decodeNamespace<Object: ManifestMapping>(_ object: Object) -> Namespace? {
        metadata(object).map { Namespace(name: $0.name) }
    }

    /// A core/v1 Service. Returns a value even when a field had an error; the caller drops
    /// objects whose decoding reported anything.
    mutating func decodeService<Object: ManifestMapping>(_ object: Object) -> Service? {
        let meta = metadata(object)
        let spec = mapping(object.field("spec"), at: "spec")
        let kind = serviceKind(spec)
        let ports = servicePorts(spec)
        // An empty selector means "no selector" to Kubernetes too: endpoints are managed elsewhere.
        let selector = stringMap(spec?.field("selector"), at: "spec.selector").flatMap { $0.isEmpty ? nil : $0 }
        let publishNotReady = bool(spec?.field("publishNotReadyAddresses"), at: "spec.publishNotReadyAddresses")
        let aliases = serviceAliases(object)
        guard let meta, let kind else { return nil }
        return Service(
            name: meta.name, namespace: meta.namespace, kind: kind, ports: ports,
            selector: selector, publishNotReadyAddresses: publishNotReady ?? false, source: source, aliases: aliases
        )
    }

    /// A KEP-1645 ServiceImport, v1alpha1 or v1beta1 (the same layout: `spec.type`, `spec.ips`,
    /// `spec.ports`), in a Service's shape.
    mutating func decodeServiceImport<Object: ManifestMapping>(_ object: Object) -> Service? {
        let meta = metadata(object)
        let spec = mapping(required(object, "spec", at: "spec"), at: "spec")
        let typeNode = required(spec, "type", at: "spec.type")
        var kind: Service.Kind?
        switch text(typeNode, at: "spec.type") {
        case "ClusterSetIP":
            var addresses: [IPAddress] = []
            if let list = sequence(spec?.field("ips"), at: "spec.ips") {
                for (index, node) in list.enumerated() {
                    if let address = ipAddress(node, at: "spec.ips[\(index)]") { addresses.append(address) }
                }
            }
            kind = .clusterIP(addresses)
        case "Headless":
            kind = .headless
        case let other?:
            report("spec.type", line: typeNode?.line, "expected ClusterSetIP or Headless, got \"\(other)\"")
        case nil:
            break
        }
        let ports = servicePorts(spec)
        guard let meta, let kind else { return nil }
        return Service(name: meta.name, namespace: meta.namespace, kind: kind, ports: ports, source: source)
    }

    /// `metadata.annotations["clusterdns.io/aliases"]`, with `metadata.creationTimestamp` to
    /// settle conflicts. The names are checked against `--alias-domains` when records are built,
    /// where a refused one is reported for its Service.
    private mutating func serviceAliases<Object: ManifestMapping>(_ object: Object) -> ServiceAliases? {
        let meta = object.field("metadata")?.mapping
        guard let node = meta?.field("annotations")?.mapping?.field(ServiceAliases.annotation),
              let value = text(node, at: "metadata.annotations[\"\(ServiceAliases.annotation)\"]")
        else { return nil }
        return ServiceAliases(annotation: value, created: meta?.field("creationTimestamp")?.scalarText.flatMap(Self.rfc3339Seconds))
    }

    /// `spec.type` decides: ExternalName → its target; otherwise `spec.clusterIPs` (else
    /// `spec.clusterIP`), where "None" means headless.
    private mutating func serviceKind<Spec: ManifestMapping>(_ spec: Spec?) -> Service.Kind? {
        let typeNode = spec?.field("type")
        switch text(typeNode, at: "spec.type") ?? "ClusterIP" {
        case "ExternalName":
            guard var target = requiredText(spec, "externalName", at: "spec.externalName") else { return nil }
            // Stored as written minus one trailing dot: the name is always absolute in DNS.
            if target.hasSuffix("."), target.count > 1 { target.removeLast() }
            return .externalName(target)
        case "ClusterIP", "NodePort", "LoadBalancer":
            return clusterIPKind(spec)
        case let other:
            report("spec.type", line: typeNode?.line,
                   "unknown Service type \"\(other)\"; expected ClusterIP, NodePort, LoadBalancer or ExternalName")
            return nil
        }
    }

    /// A ClusterIP-like service with no address yet (a manifest never applied) gets an empty
    /// `.clusterIP([])`, not `.headless`: it has no endpoints records either way until applied.
    private mutating func clusterIPKind<Spec: ManifestMapping>(_ spec: Spec?) -> Service.Kind? {
        var entries: [(text: String, node: Spec.Node, index: Int?)] = []
        if let list = sequence(spec?.field("clusterIPs"), at: "spec.clusterIPs"), !list.isEmpty {
            for (index, node) in list.enumerated() {
                if let value = text(node, at: "spec.clusterIPs[\(index)]") { entries.append((value, node, index)) }
            }
        } else if let node = spec?.field("clusterIP"), let value = text(node, at: "spec.clusterIP") {
            entries.append((value, node, nil))
        }
        if entries.first?.text == "None" { return .headless }
        var addresses: [IPAddress] = []
        addresses.reserveCapacity(entries.count)
        for entry in entries where !entry.text.isEmpty {
            let path = entry.index
            if let address = ipAddress(entry.node, at: path.map { "spec.clusterIPs[\($0)]" } ?? "spec.clusterIP") {
                addresses.append(address)
            }
        }
        return .clusterIP(addresses)
    }

    mutating func servicePorts<Spec: ManifestMapping>(_ spec: Spec?) -> [ServicePort] {
        guard let list = sequence(spec?.field("ports"), at: "spec.ports") else { return [] }
        guard list.count <= Self.maxServicePorts else {
            report("spec.ports", line: spec?.field("ports")?.line,
                   "\(list.count) ports; a Service may have at most \(Self.maxServicePorts)")
            return []
        }
        var ports: [ServicePort] = []
        ports.reserveCapacity(list.count)
        for (index, node) in list.enumerated() {
            if let entry = portEntry(node, portRequired: true, at: "spec.ports[\(index)]") {
                // A named targetPort would need the pods' container ports: treat it as absent.
                let target = node.mapping?.field("targetPort")?.scalarText.flatMap { Int($0) }
                ports.append(ServicePort(
                    name: entry.name, port: entry.port, proto: entry.proto,
                    targetPort: target.flatMap { (1...65535).contains($0) ? $0 : nil }))
            }
        }
        return ports
    }
}
