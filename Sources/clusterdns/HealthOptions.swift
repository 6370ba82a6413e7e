import ArgumentParser
import DNSServer

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
}
