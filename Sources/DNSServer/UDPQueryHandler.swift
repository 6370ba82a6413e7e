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
        switch processor.process(envelope.data, transport: .udp, client: remote, scratch: scratch) {
        case .drop:
            return
        case .reply(let length):
            var buffer = context.channel.allocator.buffer(capacity: length)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length)))
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: buffer)), promise: nil)
        case .cached(let reply):
            let buffer = context.channel.allocator.buffer(bytes: reply)
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: buffer)), promise: nil)
        case .later(let work):
            let channel = context.channel
            Task {
                guard let reply = await work() else { return }
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: reply)), promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// A failed send to one client (e.g. ICMP unreachable) must not stop the listener.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
