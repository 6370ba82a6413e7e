import DNSWire

extension ManifestDecoder {
    /// A core/v1 Pod: what `pod.<zone>` records (`--pods verified`) and hostname/subdomain
    /// records need.
    mutating func decodePod<Object: ManifestMapping>(_ object: Object) -> Pod? {
        let meta = metadata(object, labels: true)
        let spec = mapping(object.field("spec"), at: "spec")
        let status = mapping(object.field("status"), at: "status")
        let ips = podIPs(status)
        let hostname = text(spec?.field("hostname"), at: "spec.hostname")
        let subdomain = text(spec?.field("subdomain"), at: "spec.subdomain")
        let ready = podReady(status)
        guard let meta else { return nil }
        return Pod(
            name: meta.name, namespace: meta.namespace, labels: meta.labels ?? [:], ips: ips,
            hostname: Self.nonEmpty(hostname), subdomain: Self.nonEmpty(subdomain), ready: ready, source: source
        )
    }

    /// `status.podIPs[].ip` (dual-stack), else `status.podIP`; empty for unscheduled pods.
    private mutating func podIPs<Status: ManifestMapping>(_ status: Status?) -> [IPAddress] {
        var ips: [IPAddress] = []
        if let list = sequence(status?.field("podIPs"), at: "status.podIPs"), !list.isEmpty {
            for (index, node) in list.enumerated() {
                guard let entry = mapping(node, at: "status.podIPs[\(index)]") else { continue }
                let path = "status.podIPs[\(index)].ip"
                if let ip = ipAddress(required(entry, "ip", at: path), at: path) { ips.append(ip) }
            }
        } else if let node = status?.field("podIP"), text(node, at: "status.podIP")?.isEmpty == false,
                  let ip = ipAddress(node, at: "status.podIP") {
            ips.append(ip)
        }
        return ips
    }

    /// The `Ready` condition's status is "True". A pod without conditions counts as ready
    /// (hand-written manifests rarely carry a status); one with conditions but no `Ready`
    /// condition (still pending) does not.
    private mutating func podReady<Status: ManifestMapping>(_ status: Status?) -> Bool {
        guard let conditions = sequence(status?.field("conditions"), at: "status.conditions"),
              !conditions.isEmpty else { return true }
        for (index, node) in conditions.enumerated() {
            guard let condition = mapping(node, at: "status.conditions[\(index)]"),
                  text(condition.field("type"), at: "status.conditions[\(index)].type") == "Ready" else { continue }
            return text(condition.field("status"), at: "status.conditions[\(index)].status") == "True"
        }
        return false
    }
}
