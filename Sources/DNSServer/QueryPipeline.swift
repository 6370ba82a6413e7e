import ClusterRegistry
import DNSResponder
import DNSWire
import NIOCore
import RegistryReload

#if canImport(Glibc)
import Glibc
#endif

/// What became of one query, whatever its transport: the pipeline's one outcome.
enum QueryOutcome {
    case drop
    /// Answered now: the reply is the first `length` bytes of the scratch output.
    case reply(length: Int, source: ServerMetrics.Source)
    /// Answered now, in a buffer of its own (autopath's composed answer).
    case owned([UInt8], source: ServerMetrics.Source)
    /// Answered once an upstream has (nil: send nothing). It completes on an event loop of the
    /// forwarder's; the sender must not block it.
    case later(EventLoopFuture<[UInt8]?>)
    /// A datagram's cache miss, for the receiving thread to send upstream itself
    /// (`DatagramUpstreams`); only ever for `.udp`.
    case upstream(ForwardedMiss)
}

/// One query's path, shared by the UDP threads and the TCP connections (issue #10): the
/// datagram or frame is parsed once by the responder, answered from the snapshot, the cache,
/// autopath or an ExternalName chase, or forwarded, and accounted for with one metrics call
/// and one log call. Works on the packet's bytes and the raw socket address, so the
/// authoritative path and cache hits allocate nothing; TCP differs only in its size limit.
struct QueryPipeline: Sendable {
    let store: RegistryStore
    let responder: Responder
    let resolver: Resolver
    /// `--autopath`; nil when off.
    let autopath: Autopath?
    /// `--log-queries`; nil when off.
    let queryLog: QueryLog?
    /// `--metrics-listen`; nil when off.
    var metrics: ServerMetrics? = nil
    /// `--transfer-to`; nil when no one may transfer a zone.
    var zoneTransfer: ZoneTransfer? = nil

    /// When the query arrived, if anything (log, metrics) needs its duration.
    var startTime: NIODeadline? { queryLog == nil && metrics == nil ? nil : NIODeadline.now() }

    /// Answers `packet` from `client` with `snapshot`, writing into `scratch`. `shard` is the
    /// caller's shard of the per-query metrics (`ShardedCounters.shard(forListener:)`; 0 for TCP).
    @inline(__always)
    func answer(
        _ packet: UnsafeRawBufferPointer, client: sockaddr_storage, transport: Transport, snapshot: RegistrySnapshot,
        scratch: ResponseScratch, shard: Int = 0, now: NIODeadline? = nil
    ) -> QueryOutcome {
        switch responder.respond(to: packet, snapshot: snapshot, transport: transport, scratch: scratch) {
        case .drop:
            return .drop
        case .reply(let length, let rcode):
            if rcode == .nxDomain, let autopath, let relieved = relieve(
                autopath, packet, nxdomain: length, client: client, transport: transport, snapshot: snapshot, scratch: scratch) {
                return relieved
            }
            return .reply(length: length, source: .kubernetes)
        case .forward(let sizeLimit):
            // The ACL reads the raw socket address: no string, no `SocketAddress` (issue #10).
            let mayRecurse = resolver.mayRecurse(client)
            if mayRecurse, let hit = cachedReply(packet, sizeLimit: sizeLimit, scratch: scratch, shard: shard, now: now) {
                return .reply(length: hit.length, source: hit.source)
            }
            // An allowed client's question was looked up above: a miss, or not cacheable here.
            return forward(packet, transport: transport, sizeLimit: sizeLimit, mayRecurse: mayRecurse, scratch: scratch)
        case .chase(let length, let target, let type, let sizeLimit):
            let forwarder = target.lowercasedWire.withUnsafeBytes { resolver.router.forwarder(for: $0) }
            guard forwarder.isEnabled, resolver.mayRecurse(client) else { return .reply(length: length, source: .kubernetes) }
            let prefix = scratch.bytes(length)
            let chase = ExternalNameChase(forwarder: forwarder, cache: resolver.cache)
            if let cached = chase.completeFromCache(prefix, target: target, type: type, sizeLimit: sizeLimit) {
                return .owned(cached, source: .cache)
            }
            return .later(forwarder.group.next().makeFutureWithTask {
                await chase.complete(prefix, target: target, type: type, sizeLimit: sizeLimit)
            })
        }
    }

    /// Autopath's answer in place of the NXDOMAIN in the scratch output, when it has one.
    private func relieve(
        _ autopath: Autopath, _ packet: UnsafeRawBufferPointer, nxdomain length: Int, client: sockaddr_storage,
        transport: Transport, snapshot: RegistrySnapshot, scratch: ResponseScratch
    ) -> QueryOutcome? {
        guard let query = Self.query(packet, scratch) else { return nil }
        return autopath.complete(
            packet, nxdomain: scratch.bytes(length), snapshot: snapshot, client: client,
            sizeLimit: responder.sizeLimit(query, transport))
    }

    /// An out-of-zone query the responder has just parsed, not a cache hit: the upstreams.
    private func forward(
        _ packet: UnsafeRawBufferPointer, transport: Transport, sizeLimit: Int, mayRecurse: Bool, scratch: ResponseScratch
    ) -> QueryOutcome {
        // The responder's parse of this packet: the question details the cache keys on.
        guard let query = Self.query(packet, scratch) else { return .drop }
        let name = UnsafeRawBufferPointer(rebasing: scratch.lowercasedName.prefix(query.nameLength))
        return resolver.forward(
            packet, query: query, name: name, transport: transport, sizeLimit: sizeLimit, mayRecurse: mayRecurse,
            responder: responder, scratch: scratch, cacheMissed: mayRecurse)
    }

    /// A cache hit for an out-of-zone query from a client allowed to recurse, written into the
    /// scratch output: no Task, no copy of the packet, no allocation (issue #10); or, with
    /// `--filter-aaaa`, an AAAA question's NODATA. Nil when the rest of the path must run: a
    /// miss, a loop probe, a name no upstream serves.
    @inline(__always)
    private func cachedReply(
        _ packet: UnsafeRawBufferPointer, sizeLimit: Int, scratch: ResponseScratch, shard: Int, now: NIODeadline?
    ) -> (length: Int, source: ServerMetrics.Source)? {
        guard let cache = resolver.cache, let query = Self.query(packet, scratch) else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: scratch.lowercasedName.prefix(query.nameLength))
        let forwarder = resolver.router.forwarder(for: name)
        guard resolver.loopDetector?.intercept(name) != true, forwarder.isEnabled else { return nil }
        if let filtered = resolver.filteredAAAA(packet, query: query, scratch: scratch) { return (filtered, .template) }
        let key = ResponseCache.Key(
            borrowing: name, type: query.type, recordClass: query.recordClass, edns: query.edns != nil,
            dnssecOK: query.edns?.dnssecOK ?? false, checkingDisabled: query.checkingDisabled)
        // The caller's time (a datagram batch's read) stands in for the cache's own clock read
        // when that clock is the system's: ages are whole seconds (issue #10).
        guard let hit = cache.lookup(
            key, request: packet, questionEnd: query.questionEnd, into: scratch.output, limit: sizeLimit,
            now: cache.settings.clock.isSystem ? now : nil)
        else { return nil }
        resolver.metrics?.cacheHit(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(hit.length)), shard: shard)
        if hit.prefetch { resolver.prefetch(key.owned, request: Array(packet), forwarder: forwarder) }
        return (hit.length, .cache)
    }

    /// The query the responder parsed from `packet` (its name lower-cased in the scratch), or
    /// a fresh parse when the scratch holds another packet's.
    @inline(__always)
    private static func query(_ packet: UnsafeRawBufferPointer, _ scratch: ResponseScratch) -> QueryView? {
        if let parsed = scratch.parsedQuery(of: packet) { return parsed }
        guard case .query(let query) = QueryParser.parse(packet, nameBuffer: scratch.name) else { return nil }
        return query
    }

    // MARK: - Accounting: one metrics call and one log call per answered query

    /// What accounting a reply needs of its request, taken before the request's bytes go (a
    /// datagram's batch slot is reused): for replies that come later.
    struct Pending: Sendable {
        let questionType: UInt16
        let requestBytes: Int
        let client: sockaddr_storage
        let started: NIODeadline?
        /// The request itself, only when queries are logged.
        let logged: [UInt8]?
    }

    func pending(_ packet: UnsafeRawBufferPointer, client: sockaddr_storage, started: NIODeadline?) -> Pending {
        Pending(
            questionType: ServerMetrics.questionType(packet), requestBytes: packet.count, client: client, started: started,
            logged: started != nil && queryLog != nil ? Array(packet) : nil)
    }

    /// Counts and logs an answered query. `shard` is the datagram thread's own shard of the
    /// counters and histograms (`ShardedCounters.shard(forListener:)`); TCP uses 0.
    @inline(__always)
    func finished(
        _ packet: UnsafeRawBufferPointer, reply: UnsafeRawBufferPointer, source: ServerMetrics.Source, transport: Transport,
        client: sockaddr_storage, started: NIODeadline?, shard: Int = 0
    ) {
        guard let started, reply.count > 3 else { return }
        metrics?.recordQuery(
            questionType: ServerMetrics.questionType(packet), requestBytes: packet.count, replyFlags: reply[3],
            replyBytes: reply.count, transport: transport, ipv6: client.ss_family == sa_family_t(AF_INET6), source: source,
            started: started, shard: shard)
        if let queryLog { log(queryLog, packet, reply, client, transport, started) }
    }

    /// `finished` for a reply staged in a datagram batch: its duration waits in `batch` for the
    /// batch's `sendmmsg` (`ServerMetrics.recordDurations`), one clock read for all of them.
    @inline(__always)
    func finished(
        _ packet: UnsafeRawBufferPointer, reply: UnsafeRawBufferPointer, source: ServerMetrics.Source, client: sockaddr_storage,
        started: NIODeadline?, batch: inout ServerMetrics.BatchDurations, shard: Int
    ) {
        guard let started, reply.count > 3 else { return }
        metrics?.recordQuery(
            questionType: ServerMetrics.questionType(packet), requestBytes: packet.count, replyFlags: reply[3],
            replyBytes: reply.count, ipv6: client.ss_family == sa_family_t(AF_INET6), source: source, batch: &batch,
            shard: shard)
        if let queryLog { log(queryLog, packet, reply, client, .udp, started) }
    }

    /// The same for a reply that came later.
    func finished(_ pending: Pending, reply: [UInt8], source: ServerMetrics.Source, transport: Transport, shard: Int = 0) {
        reply.withUnsafeBytes { finished(pending, reply: $0, source: source, transport: transport, shard: shard) }
    }

    func finished(_ pending: Pending, reply: UnsafeRawBufferPointer, source: ServerMetrics.Source, transport: Transport, shard: Int = 0) {
        guard let started = pending.started, reply.count > 3 else { return }
        metrics?.recordQuery(
            questionType: pending.questionType, requestBytes: pending.requestBytes, replyFlags: reply[3], replyBytes: reply.count,
            transport: transport, ipv6: pending.client.ss_family == sa_family_t(AF_INET6), source: source, started: started,
            shard: shard)
        if let queryLog, let logged = pending.logged {
            logged.withUnsafeBytes { request in log(queryLog, request, reply, pending.client, transport, started) }
        }
    }

    private func log(
        _ queryLog: QueryLog, _ request: UnsafeRawBufferPointer, _ reply: UnsafeRawBufferPointer, _ client: sockaddr_storage,
        _ transport: Transport, _ started: NIODeadline
    ) {
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        queryLog.record(
            request: Array(request), reply: Array(reply), client: SocketAddress(storage: client),
            transport: transport == .tcp ? "tcp" : "udp", seconds: seconds)
    }

    /// SERVFAIL for a forwarded query whose upstreams all failed or timed out.
    static func failure(_ query: [UInt8], responder: Responder) -> [UInt8] {
        let scratch = ResponseScratch()
        let length = query.withUnsafeBytes { responder.reject(request: $0, rcode: .servFail, scratch: scratch) }
        return scratch.bytes(length)
    }
}
