import ArgumentParser
import DNSServer
import Logging
import NIOCore

/// `serve` flags for the probe endpoints and the SIGTERM lameduck (CoreDNS's `health` and
/// `ready` plugins).
struct HealthOptions: ParsableArguments {
    @Option(help: "Liveness endpoint GET /health, HOST:PORT (:PORT for all addresses); empty turns it off.")
    var healthListen = "0.0.0.0:8080"

    @Option(help: "Readiness endpoint GET /ready, HOST:PORT (:PORT for all addresses); empty turns it off.")
    var readyListen = "0.0.0.0:8181"

    @Option(help: "Seconds DNS keeps answering after SIGTERM while /ready already fails (0: exit at once).")
    var lameduck: Double = 5

    func validate() throws {
        _ = try configuration()
        guard lameduck.isFinite, lameduck >= 0 else { throw ValidationError("--lameduck must be 0 or more seconds") }
    }

    func configuration() throws -> HealthConfiguration {
        HealthConfiguration(health: try Self.endpoint(healthListen, defaultPort: 8080),
                            ready: try Self.endpoint(readyListen, defaultPort: 8181))
    }

    private static func endpoint(_ text: String, defaultPort: Int) throws -> HostPort? {
        let text = text.trimmingSpaces
        if text.isEmpty { return nil }
        let parsed = try HostPort.flag(text.hasPrefix(":") ? "0.0.0.0" + text : text, defaultPort: defaultPort)
        return parsed
    }

    /// Takes over SIGTERM and SIGINT, then binds the probe listeners (serving `readiness`, watching
    /// the event loops of `group`) and prints where they listen. Call before announcing the DNS
    /// listeners, so whoever waits for that line can already signal and probe.
    func start(readiness: Readiness, group: any EventLoopGroup) async throws -> HealthRuntime {
        let signals = ShutdownSignals.install()
        let configuration = try configuration()
        var probes: HealthServer?
        if configuration.health != nil || configuration.ready != nil {
            let server = try await HealthServer.start(configuration: configuration, readiness: readiness, group: group)
            let paths = [("/health", server.healthAddress), ("/ready", server.readyAddress)]
                .compactMap { path, address in address.map { "\(path) on \(HostPort(address: $0))" } }
            Logger(label: "clusterdns").info("clusterdns probes: \(paths.joined(separator: ", "))")
            probes = server
        }
        return HealthRuntime(
            probes: probes, readiness: readiness, signals: signals,
            lameduck: Lameduck(duration: .milliseconds(Int64((lameduck * 1000).rounded()))))
    }
}

/// The running probe listeners and the signal stream, until shutdown.
struct HealthRuntime {
    let probes: HealthServer?
    let readiness: Readiness
    let signals: AsyncStream<ShutdownSignal>
    let lameduck: Lameduck

    /// Serves until SIGTERM (after the lameduck delay), SIGINT, or the DNS listeners closing.
    func serveUntilShutdown(_ dns: DNSServer) async {
        await lameduck.serve(dns: dns, probes: probes, readiness: readiness, signals: signals) { message in
            printError("clusterdns: \(message)")
        }
    }
}
