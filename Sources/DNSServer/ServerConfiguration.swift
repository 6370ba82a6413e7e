import DNSResponder
import DNSWire
import NIOCore

/// Network-side settings of `serve`.
public struct ServerConfiguration: Sendable {
    public var listenHost: String
    /// More addresses served on the same port (`--node-local`'s second address, say).
    public var additionalListenHosts: [String] = []
    public var listenPort: Int
    public var resolver: ResolverSettings
    /// A TCP connection that sends nothing for this long is closed (RFC 7766 §6.2.3).
    public var tcpIdleTimeout: TimeAmount
    /// A query must arrive whole this soon after its first byte (`MessageDeadline`).
    public var tcpMessageTimeout: TimeAmount = .seconds(5)
    /// Response rate limiting over UDP (`ResponseRateLimiter`); nil when off.
    public var responseRateLimit: ResponseRateLimiter.Settings?
    /// UDP overload shedding (`OverloadShedder`, `--udp-max-queue-delay`); nil when off.
    public var overloadShedding: OverloadShedder.Settings? = OverloadShedder.Settings(maxQueueDelayNanoseconds: 1_000_000_000)
    /// Connections held at once, in all and per client (`ConnectionLimiter`).
    public var tcpConnectionLimits = ConnectionLimiter.Limits.dnsDefault
    public var responder: ResponderOptions
    /// Complete pods' search paths server-side (`Autopath`).
    public var autopath: Bool
    /// One CoreDNS-style line per query on stdout.
    public var logQueries: Bool
    /// Prometheus counters (`--metrics-listen`); nil when off.
    public var metrics: ServerMetrics?
    /// Networks that may transfer our zones over TCP (`--transfer-to`); nil: none may.
    public var transferTo: AccessControl? = nil

    public init(
        listenHost: String, listenPort: Int, resolver: ResolverSettings, tcpIdleTimeout: TimeAmount = .seconds(10),
        responder: ResponderOptions? = nil, autopath: Bool = false, logQueries: Bool = false,
        metrics: ServerMetrics? = nil
    ) {
        self.metrics = metrics
        self.autopath = autopath
        self.logQueries = logQueries
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.resolver = resolver
        self.tcpIdleTimeout = tcpIdleTimeout
        self.responder = responder ?? ResponderOptions(recursionAvailable: resolver.hasUpstreams)
    }

    /// Plain forwarding to `upstreams` in order, no cache: what most tests need.
    public init(
        listenHost: String, listenPort: Int, upstreams: [SocketAddress] = [],
        upstreamTimeout: TimeAmount = .seconds(2), tcpIdleTimeout: TimeAmount = .seconds(10)
    ) {
        self.init(
            listenHost: listenHost, listenPort: listenPort,
            resolver: ResolverSettings(upstreams: upstreams, policy: .sequential, timeout: upstreamTimeout, cache: nil),
            tcpIdleTimeout: tcpIdleTimeout)
    }
}

/// Everything about recursion that `serve` flags decide; turned into a `Resolver` at start.
public struct ResolverSettings: Sendable {
    public struct Stub: Sendable {
        public var domain: DomainName
        public var upstreams: [SocketAddress]
        /// Always over TCP (`--node-local-upstream`: one connection's worth of conntrack).
        public var forceTCP: Bool

        public init(domain: DomainName, upstreams: [SocketAddress], forceTCP: Bool = false) {
            self.domain = domain
            self.upstreams = upstreams
            self.forceTCP = forceTCP
        }
    }

    public var upstreams: [SocketAddress]
    public var policy: UpstreamSet.Policy
    public var timeout: TimeAmount
    public var forceTCP: Bool
    public var maxConcurrent: Int
    public var stubs: [Stub]
    /// nil disables caching.
    public var cache: ResponseCache.Settings?
    public var accessControl: AccessControl
    public var detectLoops: Bool
    /// `--filter-aaaa`: AAAA questions for names outside our zones get NODATA, never forwarded.
    public var filtersAAAA = false
    /// `--dns64`: AAAA synthesized from A records in this prefix (RFC 6147).
    public var dns64: DNS64?

    public init(
        upstreams: [SocketAddress], policy: UpstreamSet.Policy = .random, timeout: TimeAmount = .seconds(2),
        forceTCP: Bool = false, maxConcurrent: Int = 1000, stubs: [Stub] = [],
        cache: ResponseCache.Settings? = ResponseCache.Settings(), accessControl: AccessControl = .privateNetworks,
        detectLoops: Bool = true
    ) {
        self.upstreams = upstreams
        self.policy = policy
        self.timeout = timeout
        self.forceTCP = forceTCP
        self.maxConcurrent = maxConcurrent
        self.stubs = stubs
        self.cache = cache
        self.accessControl = accessControl
        self.detectLoops = detectLoops
    }

    public var hasUpstreams: Bool { !upstreams.isEmpty || stubs.contains { !$0.upstreams.isEmpty } }

    /// `report` receives loop-detection findings (one line each).
    func makeResolver(
        group: any EventLoopGroup, report: @escaping @Sendable (String) -> Void, metrics: ServerMetrics? = nil
    ) -> Resolver {
        // One in-flight budget shared by all targets would need a shared counter; each target
        // gets the full budget instead, which still bounds memory (stubs are few).
        func forwarder(_ addresses: [SocketAddress], forceTCP stubTCP: Bool = false) -> Forwarder {
            Forwarder(
                upstreams: UpstreamSet(addresses: addresses, policy: policy), timeout: timeout, group: group,
                forceTCP: forceTCP || stubTCP, maxInFlight: maxConcurrent,
                metrics: metrics.map { ForwardMetrics(upstreams: addresses, metrics: $0) })
        }
        let router = ForwardingRouter(
            default: forwarder(upstreams),
            stubs: stubs.map { ForwardingRouter.Stub(domain: $0.domain, forwarder: forwarder($0.upstreams, forceTCP: $0.forceTCP)) })
        var resolver = Resolver(
            router: router, cache: cache.map(ResponseCache.init(settings:)), accessControl: accessControl,
            loopDetector: detectLoops ? LoopDetector(report: report) : nil, metrics: metrics)
        resolver.filtersAAAA = filtersAAAA
        resolver.dns64 = dns64
        return resolver
    }
}
