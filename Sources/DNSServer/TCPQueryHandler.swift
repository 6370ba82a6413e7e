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
        switch processor.process(unwrapInboundIn(data), transport: .tcp, client: context.remoteAddress, scratch: scratch) {
        case .drop:
            return
        case .reply(let length):
            var buffer = context.channel.allocator.buffer(capacity: length + 2)
            buffer.writeInteger(UInt16(length))
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length)))
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .cached(let reply):
            var buffer = context.channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .later(let work):
            let channel = context.channel
            Task {
                guard let reply = await work() else { return }
                var buffer = ByteBuffer()
                buffer.writeInteger(UInt16(reply.count))
                buffer.writeBytes(reply)
                channel.writeAndFlush(buffer, promise: nil)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
