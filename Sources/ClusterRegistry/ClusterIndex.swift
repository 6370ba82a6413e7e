import DNSWire

/// Objects grouped the way DNS needs them: which namespaces exist, and each Service with the
/// endpoints that back it.
struct ClusterIndex {
    struct ServiceKey: Hashable {
        var namespace: String
        var name: String
    }

    /// A ready-filtered endpoint with the port list of the group it came from.
    struct ResolvedEndpoint {
        var endpoint: Endpoint
        var ports: [EndpointPort]
    }

    /// Exposed namespaces: named by a Namespace object or by any object living there.
    private(set) var namespaces: Set<String> = []
    private(set) var services: [Service] = []
    private(set) var pods: [Pod] = []
    private var slices: [ServiceKey: [EndpointGroup]] = [:]
    private var endpoints: [ServiceKey: [EndpointGroup]] = [:]
    private var podsByNamespace: [String: [Pod]] = [:]

    init(objects: [KubernetesObject], configuration: RegistryConfiguration) {
        for object in objects where configuration.exposes(namespace: object.namespaceName) {
            namespaces.insert(object.namespaceName)
            switch object {
            case .namespace: break
            case .service(let service): services.append(service)
            case .endpoints(let group):
                let key = ServiceKey(namespace: group.namespace, name: group.serviceName)
                switch group.origin {
                case .endpointSlice: slices[key, default: []].append(group)
                case .endpoints: endpoints[key, default: []].append(group)
                }
            case .pod(let pod):
                pods.append(pod)
                podsByNamespace[pod.namespace, default: []].append(pod)
            }
        }
        services.sort { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }

    /// The endpoints DNS publishes for `service`: EndpointSlices when there are any (as
    /// CoreDNS prefers them), else v1 Endpoints, else — for a selector that matches Pod
    /// objects in the manifests — what the endpoints controller would derive from them.
    /// Not-ready endpoints are dropped unless `publishNotReadyAddresses` is set.
    func endpoints(of service: Service) -> [ResolvedEndpoint] {
        let key = ServiceKey(namespace: service.namespace, name: service.name)
        let groups = slices[key] ?? endpoints[key] ?? podGroup(for: service).map { [$0] } ?? []
        return groups.flatMap { group in
            group.endpoints
                .filter { $0.ready || service.publishNotReadyAddresses }
                .map { ResolvedEndpoint(endpoint: $0, ports: group.ports) }
        }
    }

    private func podGroup(for service: Service) -> EndpointGroup? {
        guard let selector = service.selector, !selector.isEmpty else { return nil }
        let members = podsByNamespace[service.namespace, default: []].filter { pod in
            !pod.ips.isEmpty && selector.allSatisfy { pod.labels[$0.key] == $0.value }
        }
        guard !members.isEmpty else { return nil }
        let endpoints = members.map { pod in
            // The endpoints controller sets `hostname` only when the pod's subdomain names
            // this Service (k8s DNS spec §2.4.1, StatefulSet pods).
            Endpoint(
                addresses: pod.ips, hostname: pod.subdomain == service.name ? pod.hostname : nil,
                podName: pod.name, ready: pod.ready)
        }
        let ports = service.ports.map { EndpointPort(name: $0.name, port: $0.targetPort ?? $0.port, proto: $0.proto) }
        return EndpointGroup(
            serviceName: service.name, namespace: service.namespace, origin: .endpoints,
            endpoints: endpoints, ports: ports)
    }
}
