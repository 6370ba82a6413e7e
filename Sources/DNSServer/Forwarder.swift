import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends queries to one set of upstream resolvers: UDP first from a fresh random port with a
/// random ID (RFC 5452), TCP when the reply is truncated or `forceTCP` is set, the next upstream
/// on timeout or error, SERVFAIL from the caller when all fail.
public struct Forwarder: Sendable {
    public enum Failure: Error, Sendable {
        case timeout
        case noUpstream
        case malformedReply
        case overloaded
    }

    public let upstreams: UpstreamSet
    let timeout: TimeAmount
    let forceTCP: Bool
    let group: any EventLoopGroup
    /// Forwarded queries in flight; beyond `maxInFlight` we answer SERVFAIL at once instead of
    /// queueing, so a flood with dead upstreams cannot grow memory without bound.
    private let inFlight: NIOLockedValueBox<Int>
    let maxInFlight: Int
    /// `coredns_forward_*`; nil when metrics are off.
    let metrics: ForwardMetrics?

    init(
        upstreams: UpstreamSet, timeout: TimeAmount, group: any EventLoopGroup, forceTCP: Bool = false,
        maxInFlight: Int = 1000, metrics: ForwardMetrics?
    ) {
        self.metrics = metrics
        self.upstreams = upstreams
        self.timeout = timeout
        self.group = group
        self.forceTCP = forceTCP
        self.maxInFlight = maxInFlight
        self.inFlight = NIOLockedValueBox(0)
    }

    public init(
        upstreams: UpstreamSet, timeout: TimeAmount, group: any EventLoopGroup, forceTCP: Bool = false,
        maxInFlight: Int = 1000
    ) {
        self.init(
            upstreams: upstreams, timeout: timeout, group: group, forceTCP: forceTCP, maxInFlight: maxInFlight,
            metrics: nil)
    }

    /// Convenience for a plain, sequential list.
    public init(upstreams: [SocketAddress], timeout: TimeAmount, group: any EventLoopGroup, maxInFlight: Int = 1000) {
        self.init(upstreams: UpstreamSet(addresses: upstreams, policy: .sequential), timeout: timeout, group: group,
                  maxInFlight: maxInFlight)
    }

    public var isEnabled: Bool { !upstreams.isEmpty }

    /// Resolves `query` (a complete request; its ID is replaced on the wire and restored in
    /// the reply). `udpLimit` is the size the client accepts over UDP, nil for a TCP client.
    public func resolve(_ query: [UInt8], udpLimit: Int?) async throws -> [UInt8] {
        guard query.count >= DNSHeader.byteCount else { throw Failure.malformedReply }
        let admitted = inFlight.withLockedValue { count in
            guard count < maxInFlight else { return false }
            count += 1
            return true
        }
        guard admitted else { throw Failure.overloaded }
        defer { inFlight.withLockedValue { $0 -= 1 } }
        var lastError: any Error = Failure.noUpstream
        for index in upstreams.attemptOrder() {
            let started = metrics == nil ? nil : NIODeadline.now()
            metrics?.request(index)
            do {
                var reply = try await exchange(query, with: upstreams.addresses[index], udpLimit: udpLimit)
                if let started { metrics?.response(index, reply: reply, started: started) }
                upstreams.recordSuccess(index)
                reply[0] = query[0]
                reply[1] = query[1]
                // We are the client's recursive resolver, whatever kind of server answered us.
                reply[3] |= UInt8(DNSHeader.Flag.recursionAvailable.rawValue)
                return reply
            } catch {
                upstreams.recordFailure(index)
                lastError = error
            }
        }
        throw lastError
    }

    private func exchange(_ query: [UInt8], with upstream: SocketAddress, udpLimit: Int?) async throws -> [UInt8] {
        var outgoing = query
        let id = UInt16.random(in: .min ... .max)
        outgoing[0] = UInt8(id >> 8)
        outgoing[1] = UInt8(truncatingIfNeeded: id)
        guard let udpLimit, !forceTCP else { return try await UpstreamExchange.tcp(outgoing, upstream, timeout, group) }
        let reply = try await UpstreamExchange.udp(outgoing, upstream, timeout, group)
        guard reply.count > 2, reply[2] & 0x02 != 0 else { return reply }
        // Truncated: the full answer over TCP, if the client can take it; else the truncated
        // reply tells the client to come back over TCP itself.
        let full = try? await UpstreamExchange.tcp(outgoing, upstream, timeout, group)
        if let full, full.count <= udpLimit { return full }
        return reply
    }
}

/// One request/response exchange with an upstream server.
enum UpstreamExchange {
    static func udp(_ query: [UInt8], _ upstream: SocketAddress, _ timeout: TimeAmount, _ group: any EventLoopGroup) async throws -> [UInt8] {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let bindHost = upstream.protocol == .inet6 ? "::" : "0.0.0.0"
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyCatcher(query: query, upstream: upstream, promise: promise))
                }
            }
            .bind(host: bindHost, port: 0).get()
        let deadline = eventLoop.scheduleTask(in: timeout) { promise.fail(Forwarder.Failure.timeout) }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        let envelope = AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: query))
        channel.writeAndFlush(envelope).whenFailure { promise.fail($0) }
        return try await promise.futureResult.get()
    }

    static func tcp(_ query: [UInt8], _ upstream: SocketAddress, _ timeout: TimeAmount, _ group: any EventLoopGroup) async throws -> [UInt8] {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let deadline = eventLoop.scheduleTask(in: timeout) { promise.fail(Forwarder.Failure.timeout) }
        defer { deadline.cancel() }
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(TCPReplyCatcher(query: query, promise: promise))
                }
            }
            .connect(to: upstream).get()
        defer { channel.close(promise: nil) }
        var framed = ByteBuffer()
        framed.writeInteger(UInt16(query.count))
        framed.writeBytes(query)
        channel.writeAndFlush(framed).whenFailure { promise.fail($0) }
        return try await promise.futureResult.get()
    }

    /// A reply belongs to our query when ID and question match and QR is set; anything else
    /// (late replies, spoofing attempts) is ignored (RFC 5452 §9.1).
    static func matches(_ reply: [UInt8], _ query: [UInt8]) -> Bool {
        guard reply.count >= DNSHeader.byteCount, reply[0] == query[0], reply[1] == query[1], reply[2] & 0x80 != 0 else {
            return false
        }
        guard let questionEnd = questionEnd(query), reply.count >= questionEnd else { return false }
        // Compare counts' QDCOUNT and the question itself, case-insensitively.
        return reply[4] == query[4] && reply[5] == query[5]
            && zip(reply[12..<questionEnd], query[12..<questionEnd]).allSatisfy {
                DomainName.lowercase($0) == DomainName.lowercase($1)
            }
    }

    private static func questionEnd(_ query: [UInt8]) -> Int? {
        var position = DNSHeader.byteCount
        while position < query.count {
            let length = Int(query[position])
            if length == 0 { return position + 5 <= query.count ? position + 5 : nil }
            position += 1 + length
        }
        return nil
    }
}

private final class ReplyCatcher: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let query: [UInt8]
    let upstream: SocketAddress
    let promise: EventLoopPromise<[UInt8]>

    init(query: [UInt8], upstream: SocketAddress, promise: EventLoopPromise<[UInt8]>) {
        self.query = query
        self.upstream = upstream
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let reply = Array(envelope.data.readableBytesView)
        guard envelope.remoteAddress == upstream, UpstreamExchange.matches(reply, query) else { return }
        promise.succeed(reply)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
    }
}

private final class TCPReplyCatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let query: [UInt8]
    let promise: EventLoopPromise<[UInt8]>

    init(query: [UInt8], promise: EventLoopPromise<[UInt8]>) {
        self.query = query
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = Array(unwrapInboundIn(data).readableBytesView)
        if UpstreamExchange.matches(reply, query) { promise.succeed(reply) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
    }
}
