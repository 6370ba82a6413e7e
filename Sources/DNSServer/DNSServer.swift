import CGNU
import ClusterRegistry
import RegistryReload
import DNSResponder
import DNSWire
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The listeners: one UDP socket per event loop's worth of threads (SO_REUSEPORT: the kernel
/// spreads clients over them, so every core answers), each served by its own `UDPListener`
/// thread, and one NIO TCP socket, on the same address and port; the same again for each
/// additional address.
public final class DNSServer: Sendable {
    private let udpListeners: [UDPListener]
    private let tcpChannels: [any Channel]
    public var tcpChannel: any Channel { tcpChannels[0] }
    public let resolver: Resolver
    /// The first address actually bound (port 0 in the configuration picks a free one).
    public let localAddress: SocketAddress?

    /// UDP sockets of the first address, each with its serving thread: one per CPU this
    /// process may use.
    public var udpThreadCount: Int { udpListeners.count / max(tcpChannels.count, 1) }

    private init(udpListeners: [UDPListener], tcpChannels: [any Channel], resolver: Resolver) {
        self.udpListeners = udpListeners
        self.tcpChannels = tcpChannels
        self.resolver = resolver
        localAddress = udpListeners.first.flatMap { UDPListener.boundAddress($0.fd) }
    }

    /// `report` receives operational findings worth a log line (loops detected).
    public static func start(
        configuration: ServerConfiguration, store: RegistryStore, group: any EventLoopGroup,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> DNSServer {
        let resolver = configuration.resolver.makeResolver(group: group, report: report, metrics: configuration.metrics)
        let responder = Responder(options: configuration.responder)
        var pipeline = QueryPipeline(
            store: store, responder: responder, resolver: resolver,
            autopath: configuration.autopath ? Autopath(responder: responder, resolver: resolver) : nil,
            queryLog: configuration.logQueries ? QueryLog() : nil, metrics: configuration.metrics)
        pipeline.zoneTransfer = configuration.transferTo.map(ZoneTransfer.init(allowed:))
        let sockets = max(1, min(Array(group.makeIterator()).count, Self.usableCPUs()))
        // Port 0: UDP picks a free port, which may be taken for TCP; then try another.
        let attempts = configuration.listenPort == 0 ? 8 : 1
        let hosts = [configuration.listenHost] + configuration.additionalListenHosts
        // One set of connection caps for every address: they bound this process's descriptors.
        let limiter = ConnectionLimiter(limits: configuration.tcpConnectionLimits)
        for attempt in 1...attempts {
            var descriptors = [try UDPListener.bind(host: configuration.listenHost, port: configuration.listenPort)]
            let port = UDPListener.boundAddress(descriptors[0])?.port ?? configuration.listenPort
            var channels: [any Channel] = []
            do {
                for (index, host) in hosts.enumerated() {
                    for _ in (index == 0 ? 1 : 0)..<sockets { descriptors.append(try UDPListener.bind(host: host, port: port)) }
                    channels.append(try await bindTCP(configuration, host: host, port, pipeline, limiter, group))
                }
                let listeners = descriptors.enumerated().map {
                    UDPListener(
                        fd: $1, pipeline: pipeline, index: $0, rateLimit: configuration.responseRateLimit,
                        shedding: configuration.overloadShedding)
                }
                for (index, listener) in listeners.enumerated() { listener.start(name: "clusterdns-udp-\(index)") }
                return DNSServer(udpListeners: listeners, tcpChannels: channels, resolver: resolver)
            } catch {
                for fd in descriptors { Glibc.close(fd) }
                for channel in channels { try? await channel.close() }
                if attempt == attempts { throw error }
            }
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    /// CPUs this process may run on (`taskset`, a cpuset): more serving threads than that
    /// would only take turns on the same CPUs. NIO's core count reads cgroup quotas, not this.
    static func usableCPUs() -> Int {
        let count = csb_usable_cpus()
        return count > 0 ? Int(count) : System.coreCount
    }

    private static func bindTCP(
        _ configuration: ServerConfiguration, host: String, _ port: Int, _ pipeline: QueryPipeline, _ limiter: ConnectionLimiter,
        _ group: any EventLoopGroup
    ) async throws -> any Channel {
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(limiter.gate())
                    // Idle connections are closed (RFC 7766 §6.2.3) so clients cannot pin memory.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: configuration.tcpIdleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.addHandler(MessageDeadline(limit: configuration.tcpMessageTimeout))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        TCPQueryHandler(pipeline: pipeline, scratch: ResponseScratch()))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// Sends one probe query per upstream (CoreDNS `loop`): an upstream that forwards it back
    /// to us is found by `LoopDetector` and dropped. Fire and forget.
    public func probeForLoops() {
        guard let detector = resolver.loopDetector else { return }
        for forwarder in resolver.router.forwarders {
            for index in forwarder.upstreams.addresses.indices {
                guard let name = detector.makeProbe(upstreams: forwarder.upstreams, index: index) else { continue }
                var query = DNSMessage(questions: [DNSQuestion(name: name, type: .hinfo)])
                query.header.id = UInt16.random(in: .min ... .max)
                query.header[.recursionDesired] = true
                let upstream = forwarder.upstreams.addresses[index]
                // From the forwarder's socket pool, like every other upstream query: no
                // channel of its own (issue #10). The reply is not read; the detector sees it
                // come back as a query.
                _ = forwarder.sockets.exchange(query.encoded(), with: upstream, timeout: forwarder.timeout)
            }
        }
    }

    public func close() async {
        for listener in udpListeners { await listener.stop() }
        for channel in tcpChannels { try? await channel.close() }
        for forwarder in resolver.router.forwarders {
            forwarder.sockets.close()
            forwarder.connections.close()
        }
    }

    /// Completes when every listener is closed.
    public func waitUntilClosed() async {
        for listener in udpListeners { await listener.waitUntilStopped() }
        for channel in tcpChannels { try? await channel.closeFuture.get() }
    }
}
