import DNSResponder
import NIOCore

/// Answers length-framed queries on one TCP connection; several per connection (RFC 7766 §6.2.1).
final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let processor: QueryProcessor
    private let scratch: ResponseScratch

    init(processor: QueryProcessor, scratch: ResponseScratch) {
        self.processor = processor
        self.scratch = scratch
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        let client = context.remoteAddress
        let started = processor.startTime
        switch processor.process(request, transport: .tcp, client: client, scratch: scratch) {
        case .drop:
            return
        case .reply(let length):
            var buffer = context.channel.allocator.buffer(capacity: length + 2)
            buffer.writeInteger(UInt16(length))
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length)))
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            processor.count(request, reply: scratch.output[3], .tcp, client, .kubernetes, started)
            if let started, processor.queryLog != nil { processor.log(request, scratch.bytes(length), client, "tcp", started) }
        case .cached(let reply):
            var buffer = context.channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            processor.count(request, reply: reply[3], .tcp, client, .cache, started)
            if let started, processor.queryLog != nil { processor.log(request, reply, client, "tcp", started) }
        case .later(let work):
            let channel = context.channel
            let processor = self.processor
            Task {
                guard let reply = await work() else { return }
                var buffer = ByteBuffer()
                buffer.writeInteger(UInt16(reply.count))
                buffer.writeBytes(reply)
                channel.writeAndFlush(buffer, promise: nil)
                if reply.count > 3 { processor.count(request, reply: reply[3], .tcp, client, .forward, started) }
                if let started, processor.queryLog != nil { processor.log(request, reply, client, "tcp", started) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
