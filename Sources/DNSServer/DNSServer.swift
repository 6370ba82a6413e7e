import ClusterRegistry
import DNSResponder
import DNSWire
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The listeners: one UDP socket per event loop (SO_REUSEPORT: the kernel spreads clients over
/// them, so every core answers) and one TCP socket, on the same address and port.
public final class DNSServer: Sendable {
    public let udpChannels: [any Channel]
    public let tcpChannel: any Channel
    public let resolver: Resolver

    /// The address actually bound (port 0 in the configuration picks a free one).
    public var localAddress: SocketAddress? { udpChannels.first?.localAddress }

    private init(udpChannels: [any Channel], tcpChannel: any Channel, resolver: Resolver) {
        self.udpChannels = udpChannels
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
        let loops = Array(group.makeIterator())
        for attempt in 1...attempts {
            let first = try await bindUDP(configuration.listenHost, configuration.listenPort, processor, loops[0])
            let port = first.localAddress?.port ?? configuration.listenPort
            var udp = [first]
            do {
                for loop in loops.dropFirst() {
                    udp.append(try await bindUDP(configuration.listenHost, port, processor, loop))
                }
                let tcp = try await bindTCP(configuration, port, processor, group)
                return DNSServer(udpChannels: udp, tcpChannel: tcp, resolver: resolver)
            } catch {
                for channel in udp { try? await channel.close() }
                if attempt == attempts { throw error }
            }
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    /// One UDP socket on `loop`. SO_REUSEPORT lets every loop bind the same port; the kernel
    /// hashes each client's address to one socket, so a client's queries stay in order.
    private static func bindUDP(
        _ host: String, _ port: Int, _ processor: QueryProcessor, _ loop: any EventLoop
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: 1)
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
            .bind(host: host, port: port).get()
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
        for channel in udpChannels { try? await channel.close() }
        try? await tcpChannel.close()
    }

    /// Completes when every listener is closed.
    public func waitUntilClosed() async {
        for channel in udpChannels { try? await channel.closeFuture.get() }
        try? await tcpChannel.closeFuture.get()
    }
}
