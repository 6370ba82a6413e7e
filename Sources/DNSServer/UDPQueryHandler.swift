import DNSResponder
import NIOCore

/// Answers datagrams. Each channel lives on one event loop, so the scratch memory is its own.
final class UDPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let processor: QueryProcessor
    private let scratch = ResponseScratch()

    init(processor: QueryProcessor) { self.processor = processor }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let started = processor.startTime
        switch processor.process(envelope.data, transport: .udp, client: remote, scratch: scratch) {
        case .drop:
            return
        case .reply(let length):
            var buffer = context.channel.allocator.buffer(capacity: length)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length)))
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: buffer)), promise: nil)
            processor.count(envelope.data, reply: scratch.output[3], .udp, remote, .kubernetes, started)
            if let started, processor.queryLog != nil { processor.log(envelope.data, scratch.bytes(length), remote, "udp", started) }
        case .cached(let reply):
            let buffer = context.channel.allocator.buffer(bytes: reply)
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: buffer)), promise: nil)
            processor.count(envelope.data, reply: reply[3], .udp, remote, .cache, started)
            if let started, processor.queryLog != nil { processor.log(envelope.data, reply, remote, "udp", started) }
        case .later(let work):
            let channel = context.channel
            let processor = self.processor, request = envelope.data
            Task {
                guard let reply = await work() else { return }
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: reply)), promise: nil)
                if reply.count > 3 { processor.count(request, reply: reply[3], .udp, remote, .forward, started) }
                if let started, processor.queryLog != nil { processor.log(request, reply, remote, "udp", started) }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// A failed send to one client (e.g. ICMP unreachable) must not stop the listener.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
