import DNSResponder
import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Answers length-framed queries on one TCP connection; several per connection (RFC 7766 §6.2.1).
///
/// Back-pressure (issue #11 item 2): while the connection's unsent replies are above NIO's
/// high-water mark (the client is not reading) or `maxPending` forwarded queries are waiting,
/// the handler stops reading the socket. A client that sends and never reads then fills its own
/// socket buffers, not our memory.
final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Forwarded queries one connection may have waiting before it is read no further.
    static let maxPending = 64

    private let pipeline: QueryPipeline
    private let scratch: ResponseScratch
    /// Forwarded queries of this connection not yet answered; read and written on its event loop.
    private var pending = 0

    init(pipeline: QueryPipeline, scratch: ResponseScratch) {
        self.pipeline = pipeline
        self.scratch = scratch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        let client = context.remoteAddress?.storage ?? sockaddr_storage()
        if let transfer = pipeline.zoneTransfer, request.withUnsafeReadableBytes(ZoneTransfer.mayAskForTransfer),
           let accepted = transfer.accept(Array(request.readableBytesView), client: IPAddress(socketAddress: client)) {
            send(accepted, context: context)
            return
        }
        let started = pipeline.startTime
        // The same pipeline as a datagram's, over the frame's bytes (issue #10).
        request.withUnsafeReadableBytes { packet in
            switch pipeline.answer(packet, client: client, transport: .tcp, snapshot: pipeline.store.snapshot, scratch: scratch) {
            case .drop:
                return
            case .reply(let length, let source):
                let reply = UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length))
                write(reply, context: context)
                pipeline.finished(packet, reply: reply, source: source, transport: .tcp, client: client, started: started)
            case .owned(let reply, let source):
                reply.withUnsafeBytes { reply in
                    write(reply, context: context)
                    pipeline.finished(packet, reply: reply, source: source, transport: .tcp, client: client, started: started)
                }
            case .later(let answer):
                later(answer, packet: packet, client: client, started: started, context: context)
            case .upstream(let miss):
                // Never asked of TCP; answered through the event loops all the same.
                later(miss.resolvingLater(), packet: packet, client: client, started: started, context: context)
            }
        }
    }

    /// A reply that completes on a forwarder's event loop, written back on this connection's.
    private func later(
        _ answer: EventLoopFuture<[UInt8]?>, packet: UnsafeRawBufferPointer, client: sockaddr_storage, started: NIODeadline?,
        context: ChannelHandlerContext
    ) {
        let pending = pipeline.pending(packet, client: client, started: started)
        let channel = context.channel
        self.pending += 1
        updateReading(channel)
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        // Back on the connection's own loop: the handler's state and the channel are its.
        answer.hop(to: channel.eventLoop).whenSuccess { reply in
            let handler = handler.value
            handler.pending -= 1
            handler.updateReading(channel)
            guard let reply else { return }
            var buffer = channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            channel.writeAndFlush(buffer, promise: nil)
            handler.pipeline.finished(pending, reply: reply, source: .forward, transport: .tcp)
        }
    }

    /// One length-prefixed reply (RFC 1035 §4.2.2).
    private func write(_ reply: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: reply.count + 2)
        buffer.writeInteger(UInt16(reply.count))
        buffer.writeBytes(reply)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// A zone transfer: its messages are built off the event loop (a large zone takes a while)
    /// from the snapshot current now, then written in order; the connection reads nothing more
    /// until they are queued.
    private func send(_ transfer: ZoneTransfer.Request, context: ChannelHandlerContext) {
        let channel = context.channel
        let snapshot = pipeline.store.snapshot
        pending += 1
        updateReading(channel)
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.eventLoop.makeFutureWithTask { ZoneTransfer.messages(answering: transfer, from: snapshot) }.whenSuccess { messages in
            let handler = handler.value
            handler.pending -= 1
            handler.updateReading(channel)
            for message in messages {
                var buffer = channel.allocator.buffer(capacity: message.count + 2)
                buffer.writeInteger(UInt16(message.count))
                buffer.writeBytes(message)
                channel.write(buffer, promise: nil)
            }
            channel.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        updateReading(context.channel)
        context.fireChannelWritabilityChanged()
    }

    /// Reads on only while replies drain and few forwarded queries wait.
    private func updateReading(_ channel: any Channel) {
        let read = channel.isWritable && pending < Self.maxPending
        channel.setOption(ChannelOptions.autoRead, value: read).whenFailure { _ in }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
