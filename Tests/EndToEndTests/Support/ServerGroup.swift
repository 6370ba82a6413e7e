import Foundation

/// The servers one test started; the test's `tearDown` calls `stopAll()` so none outlives it.
final class ServerGroup {
    private var running: [ServerProcess] = []

    /// Starts `clusterdns serve` (see `ServerProcess.init`) and remembers it for `stopAll()`.
    ///
    /// With port 0 the server binds UDP to a free port and then TCP to the same number, which
    /// fails with EADDRINUSE when that number is taken for TCP (reported bug); such a start is
    /// retried so the suite does not flake on it.
    @discardableResult
    func start(
        manifests: String? = PackagePaths.demoManifests, listen: String = "127.0.0.1:0", arguments: [String] = [],
        prefix: [String] = []
    ) throws -> ServerProcess {
        var attempt = 1
        while true {
            do {
                let server = try ServerProcess(manifests: manifests, listen: listen, arguments: arguments, prefix: prefix)
                running.append(server)
                return server
            } catch let failure as ServerProcess.StartFailure
                where listen.hasSuffix(":0") && failure.description.contains("Address already in use") && attempt < 3 {
                attempt += 1
            }
        }
    }

    /// The demo cluster plus the static zone, as in the README.
    func startDemo(arguments: [String] = []) throws -> ServerProcess {
        try start(arguments: ["--zones", PackagePaths.staticZones] + arguments)
    }

    func stopAll() {
        for server in running { server.stop() }
        running.removeAll()
    }
}
