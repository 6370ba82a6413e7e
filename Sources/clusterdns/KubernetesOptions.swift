import ArgumentParser
import ClusterRegistry
import DNSServer
import RegistryReload
import DNSWire
import KubernetesSource
import Logging
import NIOCore

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

    /// The API source: a watcher feeding a reloader that rebuilds the snapshot after every
    /// burst of changes. The first snapshot is unsynced (cluster names SERVFAIL, /ready fails)
    /// until every resource has been listed. Call `watcher.start()` once the reloader runs.
    func load(
        _ registry: RegistryOptions, reload: ReloadOptions, autopath: Bool, nameserverAddresses: [IPAddress],
        group: any EventLoopGroup
    ) throws -> (reloader: RegistryReloader, loaded: RegistrySnapshot, watcher: KubernetesWatcher) {
        if registry.manifests != nil { throw ValidationError("--manifests and --kubernetes exclude each other") }
        let configuration = try registry.configuration(nameserverAddresses: nameserverAddresses)
        let connection = try connection()
        if let exposure = connection.credentialExposure {
            Logger(label: "clusterdns").warning("warning: \(exposure)")
        }
        var serviceImports: KubernetesResource?
        if configuration.multicluster != nil {
            switch multiclusterAPIVersion {
            case "v1beta1": serviceImports = .serviceImports
            case "v1alpha1": serviceImports = .serviceImportsV1alpha1
            default: throw ValidationError("--multicluster-api-version: expected v1beta1 or v1alpha1, got \(multiclusterAPIVersion)")
            }
        }
        let resources = KubernetesResource.needed(
            podsVerified: configuration.pods == .verified, autopath: autopath, serviceImports: serviceImports)
        let watcher = try KubernetesWatcher(
            connection: connection, resources: resources, group: group, logger: Logger(label: "clusterdns.kubernetes"))
        var options = reload.options
        options.watch = options.watch && registry.zones != nil
        // Watch events are applied incrementally, so a burst waits at most 10 ms (issue #9).
        options.quietPeriod = 0.001
        options.maxDelay = 0.01
        let reloader = RegistryReloader(
            loader: KubernetesRegistrySource(store: watcher.store, zones: registry.zones, configuration: configuration),
            options: options)
        watcher.store.onChange { [weak reloader] in reloader?.noteChange() }
        return (reloader, try ReloadOptions.loadInitial(reloader), watcher)
    }
}
