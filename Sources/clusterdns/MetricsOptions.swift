import ArgumentParser
import DNSServer

/// `serve --metrics-listen`: Prometheus `GET /metrics` (CoreDNS's `prometheus` plugin, `:9153`).
struct MetricsOptions: ParsableArguments {
    @Option(help: "Prometheus metrics GET /metrics, HOST:PORT (:PORT for all addresses); empty turns it off.")
    var metricsListen = "0.0.0.0:9153"

    func validate() throws {
        _ = try endpoint()
    }

    func endpoint() throws -> HostPort? {
        let text = metricsListen.trimmingSpaces
        if text.isEmpty { return nil }
        let parsed = try HostPort.flag(text.hasPrefix(":") ? "0.0.0.0" + text : text, defaultPort: 9153)
        return parsed
    }
}
