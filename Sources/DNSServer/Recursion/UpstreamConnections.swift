import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// TCP to the upstreams, reused and pipelined (issue #10; RFC 7766 §6.2.1, §7): one connection
/// per upstream address carries every TCP query to it at once, each with a random ID not in use
/// on that connection (RFC 5452 §9.2), and replies are matched by ID and question in whatever
/// order they arrive (RFC 7766 §7). A connection idle for `idleTimeout` is closed (RFC 7766
/// §6.2.3); one that closes fails the queries it carries, so the forwarder tries the next
/// upstream, and the next query opens a fresh one. The descriptors used are one per upstream,
/// whatever the load.
final class UpstreamConnections: Sendable {
    /// Queries one connection carries at once; beyond it a query fails at once (overloaded)
    /// rather than queue, as the forwarder's own in-flight cap does.
    static let maxPipelined = 1_024

    private let group: any EventLoopGroup
    private let idleTimeout: TimeAmount
    private let open = NIOLockedValueBox<[SocketAddress: EventLoopFuture<Connection>]>([:])
    /// Connections opened in all, for tests (reuse).
    private let openedTotal = NIOLockedValueBox(0)

    private struct Connection: Sendable {
        let channel: any Channel
        let exchanges: NIOLoopBound<PipelinedExchanges>
    }

    init(group: any EventLoopGroup, idleTimeout: TimeAmount = .seconds(10)) {
        self.group = group
        self.idleTimeout = idleTimeout
    }

    var openedCount: Int { openedTotal.withLockedValue { $0 } }

    /// Sends `query` (its ID is replaced on the wire; the reply carries ours, the caller
    /// restores the client's) to `upstream` and completes with the matching reply, or fails
    /// after `timeout`, on a refused connection, or when the connection closes first.
    func exchange(_ query: [UInt8], with upstream: SocketAddress, timeout: TimeAmount) -> EventLoopFuture<[UInt8]> {
        // The connection's future completes on its channel's loop, so the handler is read there.
        connection(to: upstream, timeout: timeout).flatMap { connection in
            connection.exchanges.value.send(query, timeout: timeout, on: connection.channel)
        }
    }

    /// The open (or opening) connection to `upstream`, else a new one.
    private func connection(to upstream: SocketAddress, timeout: TimeAmount) -> EventLoopFuture<Connection> {
        let (future, promise) = open.withLockedValue { open -> (EventLoopFuture<Connection>, EventLoopPromise<Connection>?) in
            if let existing = open[upstream] { return (existing, nil) }
            let promise = group.next().makePromise(of: Connection.self)
            open[upstream] = promise.futureResult
            return (promise.futureResult, promise)
        }
        guard let promise else { return future }
        openedTotal.withLockedValue { $0 += 1 }
        let idleTimeout = self.idleTimeout
        ClientBootstrap(group: promise.futureResult.eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(PipelinedExchanges())
                }
            }
            .connect(to: upstream)
            .flatMap { channel in
                channel.pipeline.handler(type: PipelinedExchanges.self).map { handler in
                    Connection(channel: channel, exchanges: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
            .whenComplete { [open] result in
                switch result {
                case .success(let connection):
                    // Gone from the table when it closes, so the next query opens another.
                    connection.channel.closeFuture.whenComplete { _ in
                        open.withLockedValue { open in
                            if open[upstream].map({ $0 === promise.futureResult }) == true { open[upstream] = nil }
                        }
                    }
                    promise.succeed(connection)
                case .failure(let error):
                    open.withLockedValue { $0[upstream] = nil }
                    promise.fail(error)
                }
            }
        return future
    }

    /// Closes every connection (server shutdown).
    func close() {
        let connections = open.withLockedValue { open in
            defer { open = [:] }
            return Array(open.values)
        }
        for connection in connections { connection.whenSuccess { $0.channel.close(promise: nil) } }
    }
}

/// The queries one upstream connection carries, by the ID they were sent with; only touched on
/// the connection's event loop.
private final class PipelinedExchanges: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct InFlight {
        var query: [UInt8]
        var promise: EventLoopPromise<[UInt8]>
        var deadline: Scheduled<Void>
    }

    private var inFlight: [UInt16: InFlight] = [:]

    func send(_ query: [UInt8], timeout: TimeAmount, on channel: any Channel) -> EventLoopFuture<[UInt8]> {
        let eventLoop = channel.eventLoop
        guard channel.isActive else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        guard inFlight.count < UpstreamConnections.maxPipelined, query.count >= DNSHeader.byteCount, query.count <= 65_535
        else { return eventLoop.makeFailedFuture(Forwarder.Failure.overloaded) }
        var unused = UInt16.random(in: .min ... .max)
        while inFlight[unused] != nil { unused = UInt16.random(in: .min ... .max) }
        let id = unused
        var outgoing = query
        outgoing[0] = UInt8(id >> 8)
        outgoing[1] = UInt8(truncatingIfNeeded: id)
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let deadline = eventLoop.scheduleTask(in: timeout) { handler.value.finish(id, with: .failure(Forwarder.Failure.timeout)) }
        inFlight[id] = InFlight(query: outgoing, promise: promise, deadline: deadline)
        var framed = channel.allocator.buffer(capacity: outgoing.count + 2)
        framed.writeInteger(UInt16(outgoing.count))  // RFC 1035 §4.2.2
        framed.writeBytes(outgoing)
        channel.writeAndFlush(framed).whenFailure { error in handler.value.finish(id, with: .failure(error)) }
        return promise.futureResult
    }

    private func finish(_ id: UInt16, with result: Result<[UInt8], any Error>) {
        guard let exchange = inFlight.removeValue(forKey: id) else { return }
        exchange.deadline.cancel()
        exchange.promise.completeWith(result)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = Array(unwrapInboundIn(data).readableBytesView)
        guard reply.count >= 2 else { return }
        let id = UInt16(reply[0]) << 8 | UInt16(reply[1])
        // Ours only with our ID and question (RFC 5452 §9.1); anything else is ignored.
        guard let exchange = inFlight[id], UpstreamExchange.matches(reply, exchange.query) else { return }
        finish(id, with: .success(reply))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Idle with nothing in flight: close, and let the next query open a fresh connection.
        if event is IdleStateHandler.IdleStateEvent, inFlight.isEmpty { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for id in Array(inFlight.keys) { finish(id, with: .failure(ChannelError.eof)) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
