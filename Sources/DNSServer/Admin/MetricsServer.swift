import NIOCore
import NIOHTTP1
import NIOPosix

/// `GET /metrics` in the Prometheus text format (CoreDNS's `prometheus` plugin, `:9153`), on the
/// same HTTP plumbing as the probes (`HealthHTTPHandler`).
public final class MetricsServer: Sendable {
    public let channel: any Channel
    /// The bound address (port 0 picks a free one).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: any Channel) { self.channel = channel }

    /// Binds `endpoint`; each scrape calls `refresh` (to sample gauges such as cache entries)
    /// and then renders `metrics`.
    public static func start(
        endpoint: HostPort, metrics: ServerMetrics, group: any EventLoopGroup,
        idleTimeout: TimeAmount = .seconds(10), refresh: @escaping @Sendable () -> Void = {}
    ) async throws -> MetricsServer {
        let routes = MetricsRoutes(metrics: metrics, refresh: refresh)
        do {
            let channel = try await HealthServer.bindHTTP(
                host: endpoint.host, port: endpoint.port, routes: routes, idleTimeout: idleTimeout, group: group)
            return MetricsServer(channel: channel)
        } catch {
            throw MetricsServerError(endpoint: endpoint, underlying: error)
        }
    }

    public func close() async {
        try? await channel.close()
    }
}

/// The metrics listener could not bind.
public struct MetricsServerError: Error, CustomStringConvertible {
    public var endpoint: HostPort
    public var underlying: any Error

    public var description: String { "cannot listen for /metrics on \(endpoint): \(underlying)" }
}

struct MetricsRoutes: HTTPRoutes {
    let metrics: ServerMetrics
    let refresh: @Sendable () -> Void

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func reply(method: HTTPMethod, uri: String, on loop: any EventLoop) -> EventLoopFuture<HealthReply> {
        guard uri.prefix(while: { $0 != "?" }) == "/metrics" else { return loop.makeSucceededFuture(.notFound) }
        guard method == .GET || method == .HEAD else { return loop.makeSucceededFuture(.methodNotAllowed) }
        refresh()
        return loop.makeSucceededFuture(
            HealthReply(status: .ok, body: metrics.render(), contentType: Self.contentType))
    }
}
