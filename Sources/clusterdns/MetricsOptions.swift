import ArgumentParser
import DNSServer
import Logging
import NIOCore

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

    /// The counters for a server listening on `listen`, or nil when metrics are off.
    func makeMetrics(listen: HostPort) throws -> ServerMetrics? {
        try endpoint() == nil ? nil : ServerMetrics(server: listen.description)
    }

    /// Binds the listener and prints where it listens (`clusterdns metrics: /metrics on HOST:PORT`);
    /// each scrape first calls `refresh`.
    func start(
        metrics: ServerMetrics?, group: any EventLoopGroup, refresh: @escaping @Sendable () -> Void
    ) async throws -> MetricsServer? {
        guard let metrics, let endpoint = try endpoint() else { return nil }
        let server = try await MetricsServer.start(endpoint: endpoint, metrics: metrics, group: group, refresh: refresh)
        let bound = server.localAddress.map(HostPort.init(address:))?.description ?? endpoint.description
        Logger(label: "clusterdns").info("clusterdns metrics: /metrics on \(bound)")
        return server
    }
}
