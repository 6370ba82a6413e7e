import DNSResponder
import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The recursive side of the server (issue #3): for queries outside our zones, decides whether
/// this client may recurse, answers from the cache, or forwards through the right upstreams.
public struct Resolver: Sendable {
    public let router: ForwardingRouter
    public let cache: ResponseCache?
    public let accessControl: AccessControl
    public let loopDetector: LoopDetector?
    /// Cache hit and miss counters; nil when metrics are off.
    let metrics: ServerMetrics?

    public init(
        router: ForwardingRouter, cache: ResponseCache? = nil, accessControl: AccessControl = .privateNetworks,
        loopDetector: LoopDetector? = nil
    ) {
        self.init(router: router, cache: cache, accessControl: accessControl, loopDetector: loopDetector, metrics: nil)
    }

    init(
        router: ForwardingRouter, cache: ResponseCache?, accessControl: AccessControl, loopDetector: LoopDetector?,
        metrics: ServerMetrics?
    ) {
        self.metrics = metrics
        self.router = router
        self.cache = cache
        self.accessControl = accessControl
        self.loopDetector = loopDetector
    }

    var isEnabled: Bool { router.forwarders.contains { $0.isEnabled } }

    func mayRecurse(_ client: SocketAddress?) -> Bool {
        guard let text = client?.ipAddress, let address = IPAddress(text) else { return false }
        return accessControl.allows(address)
    }

    /// The same for a raw socket address, read without building a string (issue #10).
    func mayRecurse(_ client: sockaddr_storage) -> Bool {
        guard let address = IPAddress(socketAddress: client) else { return false }
        return accessControl.allows(address)
    }

    /// What to do with an out-of-zone query. `name` is its lower-cased question name.
    func forward(
        _ packet: ByteBuffer, query: QueryView, name: UnsafeRawBufferPointer, transport: Transport, sizeLimit: Int,
        client: SocketAddress?, responder: Responder, scratch: ResponseScratch
    ) -> QueryProcessor.Result {
        if loopDetector?.intercept(name) == true || !mayRecurse(client) {
            return .reply(length: reject(packet, .refused, responder, scratch))
        }
        let forwarder = router.forwarder(for: name)
        guard forwarder.isEnabled else { return .reply(length: reject(packet, .refused, responder, scratch)) }
        let key = ResponseCache.Key(
            name: name, type: query.type, recordClass: query.recordClass, edns: query.edns != nil,
            dnssecOK: query.edns?.dnssecOK ?? false, checkingDisabled: query.checkingDisabled)
        if let cache {
            let lookup = packet.withUnsafeReadableBytes { cache.lookup(key, request: $0, questionEnd: query.questionEnd) }
            if case .hit(let reply, let prefetch) = lookup, reply.count <= sizeLimit {
                metrics?.cacheHit(reply)
                if prefetch { self.prefetch(key, request: Array(packet.readableBytesView), forwarder: forwarder) }
                return .cached(reply)
            }
            metrics?.cacheMiss()
        }
        // A miss: the request outlives this call, so it needs its own copy.
        let request = Array(packet.readableBytesView)
        let udpLimit = transport == .udp ? sizeLimit : nil
        let cache = self.cache
        return .later {
            do {
                let reply = try await forwarder.resolve(request, udpLimit: udpLimit)
                return cache?.relay(key, reply: reply) ?? ReplyTTLs.capped(reply, maxTTL: UInt32(Int32.max))
            } catch {
                let stale = request.withUnsafeBytes { cache?.stale(key, request: $0, questionEnd: query.questionEnd) }
                if let stale, stale.count <= sizeLimit { return stale }
                return QueryProcessor.failure(request, responder: responder)
            }
        }
    }

    /// Refreshes a popular entry near expiry in the background, so it never expires while in use.
    func prefetch(_ key: ResponseCache.Key, request: [UInt8], forwarder: Forwarder) {
        guard let cache else { return }
        Task { await Self.refresh(key, request, forwarder, cache) }
    }

    /// Prefetch: fetch again over TCP-capable path and replace the entry before it expires.
    private static func refresh(_ key: ResponseCache.Key, _ request: [UInt8], _ forwarder: Forwarder, _ cache: ResponseCache) async {
        guard let reply = try? await forwarder.resolve(request, udpLimit: 65535) else { return }
        cache.store(key, reply: reply)
    }

    private func reject(_ packet: ByteBuffer, _ rcode: ResponseCode, _ responder: Responder, _ scratch: ResponseScratch) -> Int {
        packet.withUnsafeReadableBytes { responder.reject(request: $0, rcode: rcode, scratch: scratch) }
    }
}
