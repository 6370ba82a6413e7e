import ClusterRegistry
import RegistryReload
import DNSResponder
import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Shared by the UDP and TCP front ends: answers from the snapshot at once, or hands back the
/// asynchronous work for queries that need an upstream.
struct QueryProcessor: Sendable {
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

    /// Counts an answered query; `reply` is its header's fourth byte (flags and rcode), `bytes`
    /// its length.
    @inline(__always)
    func count(
        _ request: ByteBuffer, reply: UInt8, bytes: Int, _ transport: Transport, _ client: SocketAddress?,
        _ source: ServerMetrics.Source, _ started: NIODeadline?
    ) {
        guard let metrics, let started else { return }
        metrics.recordQuery(
            request: request, replyFlags: reply, replyBytes: bytes, transport: transport, client: client, source: source,
            started: started)
    }

    enum Result {
        case drop
        /// The reply is the first `length` bytes of the scratch output.
        case reply(length: Int)
        /// A finished reply in its own buffer (a cache hit).
        case cached([UInt8])
        /// The reply once an upstream has answered (nil: send nothing). It completes on an
        /// event loop of the forwarder's; the sender must not block it.
        case later(EventLoopFuture<[UInt8]?>)
    }

    func process(_ packet: ByteBuffer, transport: Transport, client: SocketAddress?, scratch: ResponseScratch) -> Result {
        let snapshot = store.snapshot
        let outcome = packet.withUnsafeReadableBytes {
            responder.respond(to: $0, snapshot: snapshot, transport: transport, scratch: scratch)
        }
        switch outcome {
        case .drop:
            return .drop
        case .reply(let length, let rcode):
            if rcode == .nxDomain, let autopath,
               case .query(let query) = packet.withUnsafeReadableBytes({ QueryParser.parse($0, nameBuffer: scratch.name) }),
               let relieved = autopath.complete(
                   packet, nxdomain: scratch.bytes(length), snapshot: snapshot, client: client,
                   sizeLimit: responder.sizeLimit(query, transport)) {
                return relieved
            }
            return .reply(length: length)
        case .forward(let sizeLimit):
            // The responder's parse of this packet: the question details the cache keys on.
            return packet.withUnsafeReadableBytes {
                forward($0, transport: transport, sizeLimit: sizeLimit, mayRecurse: resolver.mayRecurse(client), scratch: scratch)
            }
        case .chase(let length, let target, let type, let sizeLimit):
            let forwarder = target.lowercasedWire.withUnsafeBytes { resolver.router.forwarder(for: $0) }
            guard forwarder.isEnabled, resolver.mayRecurse(client) else { return .reply(length: length) }
            let prefix = scratch.bytes(length)
            let chase = ExternalNameChase(forwarder: forwarder, cache: resolver.cache)
            return .later(forwarder.group.next().makeFutureWithTask {
                await chase.complete(prefix, target: target, type: type, sizeLimit: sizeLimit)
            })
        }
    }

    /// An out-of-zone query the responder has just parsed (`.forward`): the cache, else the
    /// upstreams. The datagram thread calls this directly on a cache miss, with the packet's
    /// bytes and the ACL's verdict on the raw socket address: no copy into a `ByteBuffer` and
    /// no second pass through the responder (issue #10).
    func forward(
        _ packet: UnsafeRawBufferPointer, transport: Transport, sizeLimit: Int, mayRecurse: Bool, scratch: ResponseScratch
    ) -> Result {
        // The responder's parse of this packet: the question details the cache keys on.
        guard let query = Self.query(packet, scratch) else { return .drop }
        let name = UnsafeRawBufferPointer(rebasing: scratch.lowercasedName.prefix(query.nameLength))
        return resolver.forward(
            packet, query: query, name: name, transport: transport, sizeLimit: sizeLimit, mayRecurse: mayRecurse,
            responder: responder, scratch: scratch)
    }

    enum FastResult {
        /// Answered from the snapshot: the first `length` bytes of the scratch output.
        case reply(length: Int)
        case drop
        /// Not ours: try the cache (`cachedReply`), then the full path.
        case forward(sizeLimit: Int)
        /// Needs the full path (`process`): an ExternalName chase, autopath.
        case slow
    }

    /// The authoritative path on raw bytes, allocating nothing: what the datagram listener tries
    /// before it builds the `ByteBuffer` and `SocketAddress` the other paths need.
    @inline(__always)
    func answerFast(
        _ packet: UnsafeRawBufferPointer, snapshot: RegistrySnapshot, transport: Transport, scratch: ResponseScratch
    ) -> FastResult {
        switch responder.respond(to: packet, snapshot: snapshot, transport: transport, scratch: scratch) {
        case .drop: return .drop
        case .reply(let length, let rcode): return rcode == .nxDomain && autopath != nil ? .slow : .reply(length: length)
        case .forward(let sizeLimit): return .forward(sizeLimit: sizeLimit)
        case .chase: return .slow
        }
    }

    /// A cache hit for an out-of-zone query, written into the scratch output on the datagram
    /// thread: no Task, no copy of the packet, no allocation (issue #10); or, with
    /// `--filter-aaaa`, an AAAA question's NODATA. Nil when the full path must run: a miss, a
    /// client not allowed to recurse (it gets REFUSED there), a loop probe.
    func cachedReply(
        _ packet: UnsafeRawBufferPointer, client: sockaddr_storage, sizeLimit: Int, scratch: ResponseScratch
    ) -> (length: Int, source: ServerMetrics.Source)? {
        guard let cache = resolver.cache, resolver.mayRecurse(client), let query = Self.query(packet, scratch) else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: scratch.lowercasedName.prefix(query.nameLength))
        let forwarder = resolver.router.forwarder(for: name)
        guard resolver.loopDetector?.intercept(name) != true, forwarder.isEnabled else { return nil }
        if let filtered = resolver.filteredAAAA(packet, query: query, scratch: scratch) { return (filtered, .template) }
        let key = ResponseCache.Key(
            borrowing: name, type: query.type, recordClass: query.recordClass, edns: query.edns != nil,
            dnssecOK: query.edns?.dnssecOK ?? false, checkingDisabled: query.checkingDisabled)
        guard let hit = cache.lookup(key, request: packet, questionEnd: query.questionEnd, into: scratch.output, limit: sizeLimit)
        else { return nil }
        resolver.metrics?.cacheHit(UnsafeRawBufferPointer(rebasing: scratch.output.prefix(hit.length)))
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

    func log(_ request: ByteBuffer, _ reply: [UInt8], _ client: SocketAddress?, _ transport: String, _ started: NIODeadline) {
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        queryLog?.record(request: request, reply: reply, client: client, transport: transport, seconds: seconds)
    }

    /// SERVFAIL for a forwarded query whose upstreams all failed or timed out.
    static func failure(_ query: [UInt8], responder: Responder) -> [UInt8] {
        let scratch = ResponseScratch()
        let length = query.withUnsafeBytes { responder.reject(request: $0, rcode: .servFail, scratch: scratch) }
        return scratch.bytes(length)
    }
}
