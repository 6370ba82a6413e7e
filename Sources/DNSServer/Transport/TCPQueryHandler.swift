import DNSResponder
import DNSWire
import NIOCore

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

    private let processor: QueryProcessor
    private let scratch: ResponseScratch
    /// Forwarded queries of this connection not yet answered; read and written on its event loop.
    private var pending = 0

    init(processor: QueryProcessor, scratch: ResponseScratch) {
        self.processor = processor
        self.scratch = scratch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        let client = context.remoteAddress
        if let transfer = processor.zoneTransfer, request.withUnsafeReadableBytes(ZoneTransfer.mayAskForTransfer),
           let accepted = transfer.accept(Array(request.readableBytesView), client: client?.ipAddress.flatMap(IPAddress.init)) {
            send(accepted, context: context)
            return
        }
        let started = processor.startTime
        switch processor.process(request, transport: .tcp, client: client, scratch: scratch) {
        case .drop:
            return
        case .reply(let length):
            var buffer = context.channel.allocator.buffer(capacity: length + 2)
            buffer.writeInteger(UInt16(length))
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length)))
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            processor.count(request, reply: scratch.output[3], bytes: length, .tcp, client, .kubernetes, started)
            if let started, processor.queryLog != nil { processor.log(request, scratch.bytes(length), client, "tcp", started) }
        case .cached(let reply):
            var buffer = context.channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            processor.count(request, reply: reply[3], bytes: reply.count, .tcp, client, .cache, started)
            if let started, processor.queryLog != nil { processor.log(request, reply, client, "tcp", started) }
        case .later(let answer):
            let channel = context.channel
            pending += 1
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
                let processor = handler.processor
                if reply.count > 3 { processor.count(request, reply: reply[3], bytes: reply.count, .tcp, client, .forward, started) }
                if let started, processor.queryLog != nil { processor.log(request, reply, client, "tcp", started) }
            }
        }
    }

    /// A zone transfer: its messages are built off the event loop (a large zone takes a while)
    /// from the snapshot current now, then written in order; the connection reads nothing more
    /// until they are queued.
    private func send(_ transfer: ZoneTransfer.Request, context: ChannelHandlerContext) {
        let channel = context.channel
        let snapshot = processor.store.snapshot
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
