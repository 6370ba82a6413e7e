import ArgumentParser
import ClusterRegistry
import DNSServer
import RegistryReload
import DNSWire

/// `serve` flags for hot reload of `--manifests` (and `--zones`).
struct ReloadOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Seconds between checks of every file's path, mtime and size, the fallback for changes inotify misses; 0 turns polling off.",
        valueName: "seconds"))
    var reloadInterval: Double = 2

    @Flag(name: .customLong("no-watch"), help: "Do not watch the directories with inotify (polling and SIGHUP still reload).")
    var noWatch = false

    @Flag(name: .customLong("no-reload"), help: "Neither watch nor poll: load once; only SIGHUP reloads.")
    var noReload = false

    func validate() throws {
        guard reloadInterval.isFinite, reloadInterval >= 0 else {
            throw ValidationError("--reload-interval must be 0 or more seconds")
        }
    }

    var options: RegistryReloader.Options {
        RegistryReloader.Options(
            watch: !noWatch && !noReload, pollInterval: noReload || reloadInterval == 0 ? nil : reloadInterval)
    }

    /// Loads the registry for `serve` through the reloader that keeps it current afterwards, or
    /// prints every problem to stderr and exits non-zero, as `RegistryOptions.load` does.
    func load(
        _ registry: RegistryOptions, nameserverAddresses: [IPAddress]
    ) throws -> (reloader: RegistryReloader, loaded: RegistrySnapshot) {
        let configuration = try registry.configuration(nameserverAddresses: nameserverAddresses)
        guard let manifests = registry.manifests else {
            throw ValidationError("serve needs --manifests DIR or --kubernetes (or --kubeconfig FILE)")
        }
        let reloader = RegistryReloader(
            loader: RegistryLoader.Incremental(manifests: manifests, zones: registry.zones, configuration: configuration),
            options: options)
        return (reloader, try Self.loadInitial(reloader))
    }

    /// The reloader's first load, or every problem on stderr and a non-zero exit.
    static func loadInitial(_ reloader: RegistryReloader) throws -> RegistrySnapshot {
        switch reloader.loadInitial() {
        case .success(let loaded):
            return loaded
        case .failure(let error):
            printError("clusterdns: cannot load registry:\n\(error)")
            throw ExitCode(2)
        }
    }
}
