/// The collections ClusterDNS lists and watches. Endpoints come from EndpointSlices only, as in
/// CoreDNS since 1.8 (v1 Endpoints are deprecated and capped at 1000 addresses).
public enum KubernetesResource: String, Sendable, CaseIterable, Hashable {
    case namespaces, services, endpointSlices, pods

    /// The cluster-wide collection path.
    public var path: String {
        switch self {
        case .namespaces: return "/api/v1/namespaces"
        case .services: return "/api/v1/services"
        case .endpointSlices: return "/apis/discovery.k8s.io/v1/endpointslices"
        case .pods: return "/api/v1/pods"
        }
    }

    /// What list items, which omit them, are decoded as.
    public var itemDefaults: (apiVersion: String, kind: String) {
        switch self {
        case .namespaces: return ("v1", "Namespace")
        case .services: return ("v1", "Service")
        case .endpointSlices: return ("discovery.k8s.io/v1", "EndpointSlice")
        case .pods: return ("v1", "Pod")
        }
    }

    /// The resources a configuration needs: Pods only when an answer depends on them
    /// (`--pods verified` checks pod IPs, `--autopath` finds the client's namespace by its IP).
    /// `--endpoint-pod-names` needs none: EndpointSlices carry the pod's name in `targetRef`.
    public static func needed(podsVerified: Bool, autopath: Bool) -> [KubernetesResource] {
        [.namespaces, .services, .endpointSlices] + (podsVerified || autopath ? [.pods] : [])
    }
}
