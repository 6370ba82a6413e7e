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
    public var responder: ResponderOptions

    public init(
        listenHost: String, listenPort: Int, upstreams: [SocketAddress] = [],
        upstreamTimeout: TimeAmount = .seconds(2), responder: ResponderOptions? = nil
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.upstreams = upstreams
        self.upstreamTimeout = upstreamTimeout
        self.responder = responder ?? ResponderOptions(recursionAvailable: !upstreams.isEmpty)
    }
}
