import ArgumentParser
import ClusterDNSApp
import KubernetesSource

/// `serve` flags for the Kubernetes API as the registry source (issue #4).
struct KubernetesOptions: ParsableArguments {
    @Flag(help: "Watch the Kubernetes API instead of --manifests: in-cluster service account, or --kubeconfig.")
    var kubernetes = false

    @Option(help: ArgumentHelp("kubeconfig for --kubernetes from outside the cluster (implies --kubernetes).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("Context of --kubeconfig (default: its current-context).", valueName: "name"))
    var kubeContext: String?

    @Option(help: ArgumentHelp("With --multicluster: the ServiceImport API version to watch, v1beta1 (mcs-api's storage version since v0.5) or v1alpha1.", valueName: "version"))
    var multiclusterAPIVersion = "v1beta1"

    var enabled: Bool { kubernetes || kubeconfig != nil }

    func connection() throws -> KubernetesConnection {
        do {
            if let kubeconfig { return try .kubeconfig(path: kubeconfig, context: kubeContext) }
            return try .inCluster()
        } catch {
            printError("clusterdns: \(error)")
            throw ExitCode(2)
        }
    }

    /// The ServiceImport resource `--multicluster` watches, by `--multicluster-api-version`.
    func serviceImports(multicluster: Bool) throws -> KubernetesResource? {
        guard multicluster else { return nil }
        switch multiclusterAPIVersion {
        case "v1beta1": return .serviceImports
        case "v1alpha1": return .serviceImportsV1alpha1
        default: throw ValidationError("--multicluster-api-version: expected v1beta1 or v1alpha1, got \(multiclusterAPIVersion)")
        }
    }
}
