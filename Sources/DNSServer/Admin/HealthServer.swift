import NIOCore
import NIOHTTP1
import NIOPosix

/// Where the probe endpoints listen, like CoreDNS's `health` (`:8080`) and `ready` (`:8181`)
/// plugins. A nil endpoint is switched off; equal endpoints share one listener serving both paths.
public struct HealthConfiguration: Sendable {
    public var health: HostPort?
    public var ready: HostPort?
    /// `/health` fails unless every monitored event loop runs a no-op task within this long.
    public var livenessDeadline: TimeAmount
    /// A probe connection that sends nothing for this long is closed.
    public var idleTimeout: TimeAmount

    public init(
        health: HostPort?, ready: HostPort?, livenessDeadline: TimeAmount = .seconds(1),
        idleTimeout: TimeAmount = .seconds(10)
    ) {
        self.health = health
        self.ready = ready
        self.livenessDeadline = livenessDeadline
        self.idleTimeout = idleTimeout
    }
}

/// The HTTP listeners for `GET /health` (liveness) and `GET /ready` (readiness).
///
/// `/health` answers 200 `OK` while every event loop of the monitored group (the DNS listeners')
/// still runs tasks: a round trip through each within `livenessDeadline`, else 503, so a wedged
/// loop gets the pod restarted. `/ready` answers 200 `OK` while `Readiness` says so, else 503 with
/// the reason. Other paths are 404, other methods 405.
public final class HealthServer: Sendable {
    public let channels: [any Channel]
    /// Bound addresses (port 0 in the configuration picks a free one); nil when switched off.
    public let healthAddress: SocketAddress?
    public let readyAddress: SocketAddress?

    private init(channels: [any Channel], healthAddress: SocketAddress?, readyAddress: SocketAddress?) {
        self.channels = channels
        self.healthAddress = healthAddress
        self.readyAddress = readyAddress
    }

    /// Binds the listeners on `group`; `/health` watches `monitoring` (default: `group`).
    public static func start(
        configuration: HealthConfiguration, readiness: Readiness, group: any EventLoopGroup,
        monitoring: (any EventLoopGroup)? = nil
    ) async throws -> HealthServer {
        let monitored = monitoring ?? group
        var listeners: [(HostPort, Set<HealthRoute>)] = []
        if let health = configuration.health { listeners.append((health, [.health])) }
        if let ready = configuration.ready {
            if let shared = listeners.firstIndex(where: { $0.0 == ready }) {
                listeners[shared].1.insert(.ready)
            } else {
                listeners.append((ready, [.ready]))
            }
        }
        var channels: [any Channel] = []
        var healthAddress: SocketAddress?, readyAddress: SocketAddress?
        do {
            for (endpoint, routes) in listeners {
                let probes = HealthProbes(
                    routes: routes, readiness: readiness, monitored: monitored,
                    livenessDeadline: configuration.livenessDeadline)
                let channel = try await bind(endpoint, probes, idleTimeout: configuration.idleTimeout, group)
                channels.append(channel)
                if routes.contains(.health) { healthAddress = channel.localAddress }
                if routes.contains(.ready) { readyAddress = channel.localAddress }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return HealthServer(channels: channels, healthAddress: healthAddress, readyAddress: readyAddress)
    }

    private static func bind(
        _ endpoint: HostPort, _ probes: HealthProbes, idleTimeout: TimeAmount,
        _ group: any EventLoopGroup
    ) async throws -> any Channel {
        do {
            return try await bindHTTP(
                host: endpoint.host, port: endpoint.port, routes: probes, idleTimeout: idleTimeout, group: group)
        } catch {
            throw HealthServerError(endpoint: endpoint, routes: probes.routes, underlying: error)
        }
    }

    /// An HTTP/1.1 listener answering each request from `routes` (also used for `/metrics`).
    static func bindHTTP(
        host: String, port: Int, routes: any HTTPRoutes, idleTimeout: TimeAmount, group: any EventLoopGroup
    ) async throws -> any Channel {
        // Probes must keep answering when connections pile up: capped apart from DNS.
        let limiter = ConnectionLimiter(limits: .adminDefault)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(limiter.gate())
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(IdleConnectionCloser())
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(HealthHTTPHandler(probes: routes))
                }
            }
            .bind(host: host, port: port).get()
    }

    public func close() async {
        for channel in channels { try? await channel.close() }
    }
}

/// A probe listener could not bind; names the address and the paths it was for.
public struct HealthServerError: Error, CustomStringConvertible {
    public var endpoint: HostPort
    var routes: Set<HealthRoute>
    public var underlying: any Error

    public var description: String {
        let paths = routes.map(\.path).sorted().joined(separator: " and ")
        return "cannot listen for \(paths) on \(endpoint): \(underlying)"
    }
}
