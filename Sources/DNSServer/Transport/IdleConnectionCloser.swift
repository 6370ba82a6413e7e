import NIOCore

/// Closes a connection that `IdleStateHandler` (just before it in the pipeline) reports idle, so
/// silent or half-sent clients cannot pin connections and buffers (RFC 7766 §6.2.3). Shared by
/// the DNS-over-TCP listener and the HTTP probe/metrics listeners.
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
