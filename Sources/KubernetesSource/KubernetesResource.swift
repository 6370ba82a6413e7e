/// The collections ClusterDNS lists and watches. Endpoints come from EndpointSlices only, as in
/// CoreDNS since 1.8 (v1 Endpoints are deprecated and capped at 1000 addresses).
public enum KubernetesResource: String, Sendable, CaseIterable, Hashable {
    case namespaces, services, endpointSlices, pods
    /// KEP-1645 ServiceImports (`--multicluster`), v1beta1 (mcs-api's storage version since
    /// v0.5) or v1alpha1 (older installations; the same fields).
    case serviceImports, serviceImportsV1alpha1

    /// The cluster-wide collection path.
    public var path: String {
        switch self {
        case .namespaces: return "/api/v1/namespaces"
        case .services: return "/api/v1/services"
        case .endpointSlices: return "/apis/discovery.k8s.io/v1/endpointslices"
        case .pods: return "/api/v1/pods"
        case .serviceImports: return "/apis/multicluster.x-k8s.io/v1beta1/serviceimports"
        case .serviceImportsV1alpha1: return "/apis/multicluster.x-k8s.io/v1alpha1/serviceimports"
        }
    }

    /// What list items, which omit them, are decoded as.
    public var itemDefaults: (apiVersion: String, kind: String) {
        switch self {
        case .namespaces: return ("v1", "Namespace")
        case .services: return ("v1", "Service")
        case .endpointSlices: return ("discovery.k8s.io/v1", "EndpointSlice")
        case .pods: return ("v1", "Pod")
        case .serviceImports: return ("multicluster.x-k8s.io/v1beta1", "ServiceImport")
        case .serviceImportsV1alpha1: return ("multicluster.x-k8s.io/v1alpha1", "ServiceImport")
        }
    }

    /// The resources a configuration needs: Pods only when an answer depends on them
    /// (`--pods verified` checks pod IPs, `--autopath` finds the client's namespace by its IP).
    /// `--endpoint-pod-names` needs none: EndpointSlices carry the pod's name in `targetRef`.
    /// ServiceImports only with `--multicluster` (`serviceImports` names the version served).
    public static func needed(podsVerified: Bool, autopath: Bool, serviceImports: KubernetesResource? = nil) -> [KubernetesResource] {
        [.namespaces, .services, .endpointSlices] + (podsVerified || autopath ? [.pods] : []) + (serviceImports.map { [$0] } ?? [])
    }
}
