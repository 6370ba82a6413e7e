import NIOCore

/// Closes a TCP connection whose query does not arrive whole within `limit` of its first byte.
/// The idle timer alone restarts on every byte, so a client sending one byte every few seconds
/// held a connection (and its descriptor) forever: 1,100 of them exhausted the descriptors
/// (issue #11 item 3, slowloris). It follows the 2-byte length framing of RFC 1035 §4.2.2 to
/// know where each message starts and ends; the frame decoder after it does the decoding.
final class MessageDeadline: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: TimeAmount
    /// Bytes of the current message's length prefix seen (0, 1 or 2) and its first byte.
    private var prefixBytes = 0
    private var firstPrefixByte: UInt8 = 0
    /// Body bytes of the current message still to come.
    private var remaining = 0
    private var deadline: Scheduled<Void>?

    init(limit: TimeAmount) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for byte in buffer.readableBytesView {
            if remaining > 0 {
                remaining -= 1
                if remaining == 0 { finishMessage() }
                continue
            }
            if prefixBytes == 0 {
                startMessage(context)
                firstPrefixByte = byte
                prefixBytes = 1
            } else {
                remaining = Int(firstPrefixByte) << 8 | Int(byte)
                prefixBytes = 2
                if remaining == 0 { finishMessage() }
            }
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    private func startMessage(_ context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
    }

    private func finishMessage() {
        deadline?.cancel()
        deadline = nil
        prefixBytes = 0
        remaining = 0
    }
}
