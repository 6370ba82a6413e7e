import DNSResponder
import NIOCore

/// Network-side settings of `serve`.
public struct ServerConfiguration: Sendable {
    public var listenHost: String
    public var listenPort: Int
    /// Where out-of-zone queries go, tried in order; empty means REFUSED.
    public var upstreams: [SocketAddress]
    /// How long one upstream may take before the next is tried.
    public var upstreamTimeout: TimeAmount
    /// A TCP connection that sends nothing for this long is closed (RFC 7766 §6.2.3).
    public var tcpIdleTimeout: TimeAmount
    public var responder: ResponderOptions

    public init(
        listenHost: String, listenPort: Int, upstreams: [SocketAddress] = [],
        upstreamTimeout: TimeAmount = .seconds(2), tcpIdleTimeout: TimeAmount = .seconds(10),
        responder: ResponderOptions? = nil
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.upstreams = upstreams
        self.upstreamTimeout = upstreamTimeout
        self.tcpIdleTimeout = tcpIdleTimeout
        self.responder = responder ?? ResponderOptions(recursionAvailable: !upstreams.isEmpty)
    }
}
