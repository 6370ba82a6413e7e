import ArgumentParser
import RegistryReload

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
}
