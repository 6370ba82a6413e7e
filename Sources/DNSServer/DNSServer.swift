import ClusterRegistry
import DNSResponder
import DNSWire
import NIOCore
import NIOPosix

/// The listeners: one UDP and one TCP socket on the same address and port.
public final class DNSServer: Sendable {
    public let udpChannel: any Channel
    public let tcpChannel: any Channel
    public let resolver: Resolver

    /// The address actually bound (port 0 in the configuration picks a free one).
    public var localAddress: SocketAddress? { udpChannel.localAddress }

    private init(udpChannel: any Channel, tcpChannel: any Channel, resolver: Resolver) {
        self.udpChannel = udpChannel
        self.tcpChannel = tcpChannel
        self.resolver = resolver
    }

    static let vectorReadCount = 64
    /// Largest query datagram read in full; real queries are far smaller (RFC 6891 §6.2.5).
    static let maxQuerySize = 4096

    /// `report` receives operational findings worth a log line (loops detected).
    public static func start(
        configuration: ServerConfiguration, store: RegistryStore, group: any EventLoopGroup,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> DNSServer {
        let resolver = configuration.resolver.makeResolver(group: group, report: report, metrics: configuration.metrics)
        let responder = Responder(options: configuration.responder)
        let processor = QueryProcessor(
            store: store, responder: responder, resolver: resolver,
            autopath: configuration.autopath ? Autopath(responder: responder, resolver: resolver) : nil,
            queryLog: configuration.logQueries ? QueryLog() : nil, metrics: configuration.metrics)
        // Port 0: UDP picks a free port, which may be taken for TCP; then try another.
        let attempts = configuration.listenPort == 0 ? 8 : 1
        for attempt in 1...attempts {
            let udp = try await bindUDP(configuration, processor, group)
            let port = udp.localAddress?.port ?? configuration.listenPort
            do {
                let tcp = try await bindTCP(configuration, port, processor, group)
                return DNSServer(udpChannel: udp, tcpChannel: tcp, resolver: resolver)
            } catch {
                try? await udp.close()
                if attempt == attempts { throw error }
            }
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    private static func bindUDP(
        _ configuration: ServerConfiguration, _ processor: QueryProcessor, _ group: any EventLoopGroup
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            // Vectored reads (recvmmsg): one syscall for a burst of queries (DESIGN.md §7).
            // NIO splits one receive buffer evenly between the messages of a vectored read, so
            // the buffer must hold `count` maximum-size queries or datagrams are cut short.
            .channelOption(.datagramVectorReadMessageCount, value: Self.vectorReadCount)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(
                capacity: Self.vectorReadCount * Self.maxQuerySize))
            .channelOption(.maxMessagesPerRead, value: 64)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(processor: processor))
                }
            }
            .bind(host: configuration.listenHost, port: configuration.listenPort).get()
    }

    private static func bindTCP(
        _ configuration: ServerConfiguration, _ port: Int, _ processor: QueryProcessor, _ group: any EventLoopGroup
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Idle connections are closed (RFC 7766 §6.2.3) so clients cannot pin memory.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: configuration.tcpIdleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        TCPQueryHandler(processor: processor, scratch: ResponseScratch()))
                }
            }
            .bind(host: configuration.listenHost, port: port).get()
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
                let timeout = forwarder.timeout, group = forwarder.group
                Task { _ = try? await UpstreamExchange.udp(query.encoded(), upstream, timeout, group) }
            }
        }
    }

    public func close() async {
        try? await udpChannel.close()
        try? await tcpChannel.close()
    }

    /// Completes when both listeners are closed.
    public func waitUntilClosed() async {
        try? await udpChannel.closeFuture.get()
        try? await tcpChannel.closeFuture.get()
    }
}
