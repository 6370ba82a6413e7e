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
    /// `--filter-aaaa` (`AAAAFilter`).
    public var filtersAAAA = false
    /// `--dns64`: AAAA synthesized from A for names that have none, and PTR for the prefix.
    public var dns64: DNS64?

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

    /// Whether `client` may recurse, read from the raw socket address without building a
    /// string (issue #10).
    func mayRecurse(_ client: sockaddr_storage) -> Bool {
        guard let address = IPAddress(socketAddress: client) else { return false }
        return accessControl.allows(address)
    }

    /// What to do with an out-of-zone query. `name` is its lower-cased question name;
    /// `mayRecurse` says whether the client is allowed to. Works on the packet's bytes, so the
    /// datagram thread and the TCP handler call it alike, without copying the packet first.
    func forward(
        _ packet: UnsafeRawBufferPointer, query: QueryView, name: UnsafeRawBufferPointer, transport: Transport, sizeLimit: Int,
        mayRecurse: Bool, responder: Responder, scratch: ResponseScratch, cacheMissed: Bool = false
    ) -> QueryOutcome {
        if loopDetector?.intercept(name) == true || !mayRecurse {
            return .reply(length: responder.reject(request: packet, rcode: .refused, scratch: scratch), source: .kubernetes)
        }
        if let length = filteredAAAA(packet, query: query, scratch: scratch) { return .reply(length: length, source: .template) }
        let forwarder = router.forwarder(for: name)
        guard forwarder.isEnabled else { return .reply(length: responder.reject(request: packet, rcode: .refused, scratch: scratch), source: .kubernetes) }
        if let dns64, query.type == .ptr, let chase = dns64PointerChase(packet, name: name, dns64: dns64, sizeLimit: sizeLimit) {
            return .later(chase)
        }
        let key = ResponseCache.Key(
            name: name, type: query.type, recordClass: query.recordClass, edns: query.edns != nil,
            dnssecOK: query.edns?.dnssecOK ?? false, checkingDisabled: query.checkingDisabled)
        if let cache {
            // `cacheMissed`: the caller has just looked this question up (`QueryPipeline`'s
            // allocation-free lookup) and missed; a second lookup would only miss again.
            let lookup = cacheMissed ? .miss : cache.lookup(key, request: packet, questionEnd: query.questionEnd)
            if case .hit(let reply, let prefetch) = lookup, reply.count <= sizeLimit {
                metrics?.cacheHit(reply)
                if prefetch { self.prefetch(key, request: Array(packet), forwarder: forwarder) }
                return .owned(reply, source: .cache)
            }
            metrics?.cacheMiss()
        }
        // A miss: the request outlives this call, so it needs its own copy.
        let miss = ForwardedMiss(
            forwarder: forwarder, request: Array(packet), key: key, questionEnd: query.questionEnd,
            udpLimit: transport == .udp ? sizeLimit : nil, sizeLimit: sizeLimit, cache: cache, responder: responder)
        if let dns64, query.type == .aaaa, let asking = DNS64.addressRequest(miss.request, questionEnd: miss.questionEnd) {
            let asked = Self.synthesizing(
                forwarder.resolving(miss.request, udpLimit: miss.udpLimit), dns64: dns64, asking: asking, request: miss.request,
                udpLimit: miss.udpLimit, forwarder: forwarder)
            return .later(miss.completing(asked))
        }
        // A datagram's miss is sent by the thread that received it, from its own sockets
        // (`DatagramUpstreams`); a TCP client's takes the forwarder's event loops.
        return transport == .udp && !forwarder.forceTCP ? .upstream(miss) : .later(miss.resolvingLater())
    }

    /// DNS64 (RFC 6147 §5.1): when the AAAA reply has no usable address, the name's A records
    /// asked for and turned into AAAA; the AAAA reply stands when there are none, or the A
    /// question fails.
    private static func synthesizing(
        _ asked: EventLoopFuture<[UInt8]>, dns64: DNS64, asking: [UInt8], request: [UInt8], udpLimit: Int?, forwarder: Forwarder
    ) -> EventLoopFuture<[UInt8]> {
        asked.flatMap { reply in
            guard DNS64.needsSynthesis(reply) else { return asked.eventLoop.makeSucceededFuture(reply) }
            return forwarder.resolving(asking, udpLimit: 65_535)
                .map { addresses in
                    guard var synthesized = dns64.synthesize(aaaaReply: reply, aReply: addresses) else { return reply }
                    synthesized[0] = request[0]
                    synthesized[1] = request[1]
                    if let udpLimit, synthesized.count > udpLimit {
                        return UpstreamExchange.truncated(synthesized, query: request, payload: udpLimit)
                    }
                    return synthesized
                }
                .recover { _ in reply }
        }
    }

    /// DNS64 (RFC 6147 §5.3.1): a PTR question for an address inside the prefix is answered
    /// with a CNAME to the IPv4 address's reverse name, and that name is resolved and appended
    /// as an ExternalName target is. Nil for any other name.
    private func dns64PointerChase(
        _ packet: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, dns64: DNS64, sizeLimit: Int
    ) -> EventLoopFuture<[UInt8]?>? {
        guard let owner = try? DomainName(wire: Array(name)), let target = dns64.ipv4ReverseName(for: owner),
              var reply = try? DNSMessage(decoding: Array(packet)), let question = reply.questions.first
        else { return nil }
        reply.header[.response] = true
        reply.header[.recursionAvailable] = true
        reply.header[.authoritative] = false
        reply.header.rcodeLow = 0
        reply.answers = [ResourceRecord(name: question.name, ttl: DNS64.pointerAliasTTL, data: .cname(target))]
        reply.authorities = []
        reply.additionals = []
        let prefix = reply.encoded()
        let forwarder = target.lowercasedWire.withUnsafeBytes { router.forwarder(for: $0) }
        let chase = ExternalNameChase(forwarder: forwarder, cache: cache)
        return forwarder.group.next().makeFutureWithTask {
            await chase.complete(prefix, target: target, type: .ptr, sizeLimit: sizeLimit)
        }
    }

    /// With `--filter-aaaa`, the NODATA for an AAAA question, written into the scratch output:
    /// its length; nil for every other question.
    @inline(__always)
    func filteredAAAA(_ packet: UnsafeRawBufferPointer, query: QueryView, scratch: ResponseScratch) -> Int? {
        guard filtersAAAA, query.type == .aaaa else { return nil }
        metrics?.aaaaFiltered()
        return AAAAFilter.write(request: packet, query: query, into: scratch.output)
    }

    /// Refreshes a popular entry near expiry in the background, so it never expires while in use.
    func prefetch(_ key: ResponseCache.Key, request: [UInt8], forwarder: Forwarder) {
        guard let cache else { return }
        // Any size the upstream gives, over TCP when needed: the entry serves every client.
        forwarder.resolving(request, udpLimit: 65535).whenSuccess { reply in cache.store(key, reply: reply) }
    }
}
