import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Sends queries to one set of upstream resolvers: UDP first, from a shared pool of sockets on
/// random ports with a random ID (RFC 5452, `UpstreamSockets`), TCP when the reply is truncated
/// or `forceTCP` is set, the next upstream on timeout or error, SERVFAIL from the caller when all
/// fail. Identical questions in flight at once are sent upstream once.
// A class: the router hands one out for every out-of-zone query, cache hits included, and a
// struct of seven references cost seven retains and releases per copy.
public final class Forwarder: Sendable {
    public enum Failure: Error, Sendable {
        case timeout
        case noUpstream
        case malformedReply
        case overloaded
    }

    public let upstreams: UpstreamSet
    let timeout: TimeAmount
    let forceTCP: Bool
    let group: any EventLoopGroup
    /// Forwarded queries in flight; beyond `maxInFlight` we answer SERVFAIL at once instead of
    /// queueing, so a flood with dead upstreams cannot grow memory without bound.
    private let inFlight: NIOLockedValueBox<Int>
    let maxInFlight: Int
    /// `coredns_forward_*`; nil when metrics are off.
    let metrics: ForwardMetrics?
    let sockets: UpstreamSockets
    /// TCP to the upstreams: one reused, pipelined connection each (RFC 7766).
    let connections: UpstreamConnections
    let coalescer = Coalescer()

    init(
        upstreams: UpstreamSet, timeout: TimeAmount, group: any EventLoopGroup, forceTCP: Bool = false,
        maxInFlight: Int = 1000, metrics: ForwardMetrics?
    ) {
        self.metrics = metrics
        self.upstreams = upstreams
        self.timeout = timeout
        self.group = group
        self.forceTCP = forceTCP
        self.maxInFlight = maxInFlight
        self.inFlight = NIOLockedValueBox(0)
        sockets = UpstreamSockets(group: group, retireAfter: timeout + .seconds(1))
        connections = UpstreamConnections(group: group)
    }

    public convenience init(
        upstreams: UpstreamSet, timeout: TimeAmount, group: any EventLoopGroup, forceTCP: Bool = false,
        maxInFlight: Int = 1000
    ) {
        self.init(
            upstreams: upstreams, timeout: timeout, group: group, forceTCP: forceTCP, maxInFlight: maxInFlight,
            metrics: nil)
    }

    /// Convenience for a plain, sequential list.
    public convenience init(upstreams: [SocketAddress], timeout: TimeAmount, group: any EventLoopGroup, maxInFlight: Int = 1000) {
        self.init(upstreams: UpstreamSet(addresses: upstreams, policy: .sequential), timeout: timeout, group: group,
                  maxInFlight: maxInFlight)
    }

    public var isEnabled: Bool { !upstreams.isEmpty }

    /// Requests admitted and not yet answered (leaders and those waiting on them).
    var inFlightCount: Int { inFlight.withLockedValue { $0 } }

    /// Resolves `query` (a complete request; its ID is replaced on the wire and restored in
    /// the reply). `udpLimit` is the size the client accepts over UDP, nil for a TCP client.
    public func resolve(_ query: [UInt8], udpLimit: Int?) async throws -> [UInt8] {
        try await resolving(query, udpLimit: udpLimit).get()
    }

    /// The same as a future, for callers on a datagram thread or an event loop: a miss then
    /// costs no Swift task and no hop through the concurrency pool (issue #10). The common path
    /// (an open socket, a UDP reply that fits) runs to completion on the socket's event loop.
    func resolving(_ query: [UInt8], udpLimit: Int?) -> EventLoopFuture<[UInt8]> {
        let eventLoop = group.next()
        guard query.count >= DNSHeader.byteCount else { return eventLoop.makeFailedFuture(Failure.malformedReply) }
        guard admit() else { return eventLoop.makeFailedFuture(Failure.overloaded) }
        let answer: EventLoopFuture<[UInt8]>
        // Requests equal but for their ID (same question, flags and OPT) get the same answer.
        let key = Coalescer.Key(request: query[2...], udpLimit: udpLimit)
        switch coalescer.join(key, on: eventLoop) {
        case .follower(let leader):
            answer = leader.map { reply in
                var reply = reply
                reply[0] = query[0]
                reply[1] = query[1]
                return reply
            }
        case .leader(let promise):
            answer = resolveUpstream(query, udpLimit: udpLimit, attempts: upstreams.attemptOrder()[...], lastError: Failure.noUpstream, on: eventLoop)
            // One callback: later requests ask upstream again, the slot is free, then the
            // followers are told.
            answer.whenComplete { [self] result in
                coalescer.finish(key)
                release()
                promise.completeWith(result)
            }
            return answer
        case .alone:
            answer = resolveUpstream(query, udpLimit: udpLimit, attempts: upstreams.attemptOrder()[...], lastError: Failure.noUpstream, on: eventLoop)
        }
        answer.whenComplete { [self] _ in release() }
        return answer
    }

    /// Counts one more request in flight; false past `maxInFlight`, where the caller answers
    /// at once instead of queueing (issue #11: bounded memory with dead upstreams).
    func admit() -> Bool {
        inFlight.withLockedValue { count in
            guard count < maxInFlight else { return false }
            count += 1
            return true
        }
    }

    /// One request in flight has its answer.
    func release() { inFlight.withLockedValue { $0 -= 1 } }

    /// Asks each upstream of `attempts` in turn until one answers.
    private func resolveUpstream(
        _ query: [UInt8], udpLimit: Int?, attempts: ArraySlice<Int>, lastError: any Error, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        guard let index = attempts.first else { return eventLoop.makeFailedFuture(lastError) }
        let started = metrics == nil ? nil : NIODeadline.now()
        metrics?.request(index)
        let exchanged = exchange(query, with: upstreams.addresses[index], udpLimit: udpLimit, on: eventLoop)
        return settle(exchanged, query: query, udpLimit: udpLimit, upstream: index, started: started, then: attempts.dropFirst())
    }

    /// `exchanged`, upstream `index`'s reply, made the answer; on failure the upstreams of
    /// `then` in turn. One promise completed from one callback, on the loop the reply arrives on.
    private func settle(
        _ exchanged: EventLoopFuture<[UInt8]>, query: [UInt8], udpLimit: Int?, upstream index: Int, started: NIODeadline?,
        then attempts: ArraySlice<Int>
    ) -> EventLoopFuture<[UInt8]> {
        let answer = exchanged.eventLoop.makePromise(of: [UInt8].self)
        exchanged.whenComplete { [self] result in
            switch result {
            case .success(var reply):
                accept(&reply, from: index, for: query, started: started)
                answer.succeed(reply)
            case .failure(let error):
                upstreams.recordFailure(index)
                answer.completeWith(
                    resolveUpstream(query, udpLimit: udpLimit, attempts: attempts, lastError: error, on: exchanged.eventLoop))
            }
        }
        return answer.futureResult
    }

    /// Upstream `index`'s reply made the answer to `query`: counted, the upstream marked
    /// healthy, the client's ID put back.
    func accept(_ reply: inout [UInt8], from index: Int, for query: [UInt8], started: NIODeadline?) {
        if let started { metrics?.response(index, reply: reply, started: started) }
        upstreams.recordSuccess(index)
        reply[0] = query[0]
        reply[1] = query[1]
        // We are the client's recursive resolver, whatever kind of server answered us.
        reply[3] |= UInt8(DNSHeader.Flag.recursionAvailable.rawValue)
    }

    /// `query` through the upstreams in turn on the event loops, already admitted and
    /// coalesced by the caller (a datagram thread that could not open a socket of its own).
    func askingUpstreams(_ query: [UInt8], udpLimit: Int?) -> EventLoopFuture<[UInt8]> {
        resolveUpstream(query, udpLimit: udpLimit, attempts: upstreams.attemptOrder()[...], lastError: Failure.noUpstream, on: group.next())
    }

    /// Upstream `index` failed `query` (a datagram thread's own exchange timed out): the
    /// other upstreams in turn, through the event loops.
    func failingOver(_ query: [UInt8], udpLimit: Int?, from index: Int, error: any Error) -> EventLoopFuture<[UInt8]> {
        upstreams.recordFailure(index)
        let rest = upstreams.attemptOrder().filter { $0 != index }
        return resolveUpstream(query, udpLimit: udpLimit, attempts: rest[...], lastError: error, on: group.next())
    }

    /// Upstream `index`'s UDP reply to `query` was truncated or larger than the client takes
    /// (a datagram thread's own exchange): completed over TCP as `exchange` does, and settled.
    func completingOverTCP(_ query: [UInt8], udpReply: [UInt8], udpLimit: Int, from index: Int, started: NIODeadline?) -> EventLoopFuture<[UInt8]> {
        let rest = upstreams.attemptOrder().filter { $0 != index }
        let exchanged = overTCP(query, udpReply: udpReply, with: upstreams.addresses[index], udpLimit: udpLimit)
        return settle(exchanged, query: query, udpLimit: udpLimit, upstream: index, started: started, then: rest[...])
    }

    /// Whether a UDP reply must be completed over TCP: truncated, or larger than the client's
    /// UDP limit.
    static func needsTCP(_ reply: UnsafeRawBufferPointer, udpLimit: Int) -> Bool {
        reply.count > 2 && (reply[2] & 0x02 != 0 || reply.count > udpLimit)
    }

    private func exchange(
        _ query: [UInt8], with upstream: SocketAddress, udpLimit: Int?, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[UInt8]> {
        let (timeout, connections) = (self.timeout, self.connections)
        guard let udpLimit, !forceTCP else { return connections.exchange(query, with: upstream, timeout: timeout) }
        let exchanged = sockets.exchange(query, with: upstream, timeout: timeout)
        return exchanged.flatMap { [self] reply in
            // Completed on the socket's own loop, so the chain stays on that thread.
            guard reply.withUnsafeBytes({ Self.needsTCP($0, udpLimit: udpLimit) }) else {
                return exchanged.eventLoop.makeSucceededFuture(reply)
            }
            return overTCP(query, udpReply: reply, with: upstream, udpLimit: udpLimit)
        }
    }

    /// Truncated, or larger than the client takes over UDP: the full answer over TCP if the
    /// client can take it, else a truncated reply sends the client to TCP itself.
    private func overTCP(_ query: [UInt8], udpReply reply: [UInt8], with upstream: SocketAddress, udpLimit: Int) -> EventLoopFuture<[UInt8]> {
        connections.exchange(query, with: upstream, timeout: timeout)
            .map { full in full.count <= udpLimit ? full : Self.cut(reply, query: query, udpLimit: udpLimit) }
            .recover { _ in Self.cut(reply, query: query, udpLimit: udpLimit) }
    }

    /// The UDP reply as it is when it fits the client, else truncated to send it to TCP.
    private static func cut(_ reply: [UInt8], query: [UInt8], udpLimit: Int) -> [UInt8] {
        reply.count <= udpLimit ? reply : UpstreamExchange.truncated(reply, query: query, payload: udpLimit)
    }
}

/// Identical requests in flight at once: the first (the leader) asks upstream, the others wait
/// for its answer.
final class Coalescer: Sendable {
    struct Key: Hashable, Sendable {
        /// The request after its ID: flags, counts, question and OPT.
        var request: ArraySlice<UInt8>
        var udpLimit: Int?

        // The bytes hashed and compared in bulk: the synthesized conformance feeds the hasher
        // and compares one byte at a time, on every forwarded miss.
        func hash(into hasher: inout Hasher) {
            request.withUnsafeBytes { hasher.combine(bytes: $0) }
            hasher.combine(udpLimit)
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.udpLimit == rhs.udpLimit && lhs.request.count == rhs.request.count
                && lhs.request.withUnsafeBytes { left in
                    rhs.request.withUnsafeBytes { right in left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
                }
        }
    }

    enum Role {
        case leader(EventLoopPromise<[UInt8]>)
        case follower(EventLoopFuture<[UInt8]>)
        /// A datagram thread leads this question: ask upstream without joining it.
        case alone
    }

    /// A datagram's place behind a datagram thread's exchange.
    enum DatagramRole {
        /// Send it upstream; `finishDatagram` hands over who joined meanwhile.
        case leader
        /// Joined: the leader's thread answers it.
        case joined
        /// An event-loop exchange leads: its future gives the answer.
        case follower(EventLoopFuture<[UInt8]>)
    }

    /// A datagram waiting on another's exchange: the ID its client used, and its accounting.
    struct DatagramFollower: Sendable {
        let id: (UInt8, UInt8)
        let accounting: QueryPipeline.Pending
    }

    private enum Leader {
        case eventLoop(EventLoopFuture<[UInt8]>)
        case datagram([DatagramFollower])
    }

    private let waiting = NIOLockedValueBox<[Key: Leader]>([:])

    func join(_ key: Key, on eventLoop: any EventLoop) -> Role {
        waiting.withLockedValue { waiting in
            switch waiting[key] {
            case .eventLoop(let answer): return .follower(answer)
            case .datagram: return .alone
            case nil:
                let promise = eventLoop.makePromise(of: [UInt8].self)
                waiting[key] = .eventLoop(promise.futureResult)
                return .leader(promise)
            }
        }
    }

    /// The event-loop leader has its answer: later requests ask upstream again.
    func finish(_ key: Key) {
        _ = waiting.withLockedValue { $0.removeValue(forKey: key) }
    }

    /// A datagram thread's miss: lead, join a datagram leader, or follow an event-loop one.
    func join(_ key: Key, datagram follower: @autoclosure () -> DatagramFollower) -> DatagramRole {
        waiting.withLockedValue { waiting in
            switch waiting[key] {
            case .eventLoop(let answer):
                return .follower(answer)
            case .datagram(var followers):
                // Taken out and put back, so the array is not copied on append.
                waiting[key] = .datagram([])
                followers.append(follower())
                waiting[key] = .datagram(followers)
                return .joined
            case nil:
                waiting[key] = .datagram([])
                return .leader
            }
        }
    }

    /// The datagram leader has its answer: who joined it, for its thread to answer.
    func finishDatagram(_ key: Key) -> [DatagramFollower] {
        waiting.withLockedValue { waiting in
            guard case .datagram(let followers) = waiting.removeValue(forKey: key) else { return [] }
            return followers
        }
    }
}

/// What upstream exchanges share: matching a reply to its query, and the truncated reply a
/// UDP client gets when the answer does not fit.
enum UpstreamExchange {
    /// A reply too large for the client's UDP limit: its header and question with TC set and
    /// no records (RFC 2181 §9, RFC 1035 §4.2.1), so the client asks again over TCP. The
    /// client's ID and OPT presence come from `query` (RFC 6891 §7: an OPT answers an OPT).
    static func truncated(_ reply: [UInt8], query: [UInt8], payload: Int) -> [UInt8] {
        // The reply's flags and rcode; QR alone for a reply too short to have them (the
        // socket drops those, but this must hold for any input: found by Fuzz/).
        var header = reply.count >= DNSHeader.byteCount
            ? Array(reply[..<DNSHeader.byteCount]) : [0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        header[0] = query.count > 1 ? query[0] : 0
        header[1] = query.count > 1 ? query[1] : 0
        header[2] |= UInt8(DNSHeader.Flag.truncated.rawValue >> 8)
        for index in 4..<12 { header[index] = 0 }
        guard let questionEnd = questionEnd(query) else { return header }
        header[5] = 1  // the query's one question follows, whatever the reply counted
        var result = header + Array(query[DNSHeader.byteCount..<questionEnd])
        if query.count > questionEnd, var opt = optRecord(query, from: questionEnd) {
            opt[3] = UInt8(truncatingIfNeeded: payload >> 8)  // the size we take, in CLASS
            opt[4] = UInt8(truncatingIfNeeded: payload)
            result[11] = 1
            result += opt
        }
        return result
    }

    /// The request's OPT record (the only additional record a stub sends), if any.
    private static func optRecord(_ query: [UInt8], from questionEnd: Int) -> [UInt8]? {
        // Root owner (0), TYPE 41, then class, TTL and RDLENGTH.
        guard query.count >= questionEnd + 11, query[questionEnd] == 0, query[questionEnd + 1] == 0, query[questionEnd + 2] == 41
        else { return nil }
        var opt = Array(query[questionEnd..<questionEnd + 11])
        opt[9] = 0  // no options echoed
        opt[10] = 0
        return opt
    }

    /// A reply belongs to our query when ID and question match and QR is set; anything else
    /// (late replies, spoofing attempts) is ignored (RFC 5452 §9.1).
    static func matches(_ reply: [UInt8], _ query: [UInt8]) -> Bool {
        guard query.count >= DNSHeader.byteCount, let questionEnd = questionEnd(query) else { return false }
        let id = UInt16(query[0]) << 8 | UInt16(query[1])
        return reply.withUnsafeBytes { matches($0, id: id, request: query, questionEnd: questionEnd) }
    }

    /// `matches` over the received bytes, for an `id` other than the request's (a datagram
    /// thread's exchange sends the client's request under its own ID); the request's question
    /// ends at `questionEnd`.
    static func matches(_ reply: UnsafeRawBufferPointer, id: UInt16, request: [UInt8], questionEnd: Int) -> Bool {
        guard reply.count >= questionEnd, request.count >= questionEnd, reply[0] == UInt8(id >> 8),
              reply[1] == UInt8(truncatingIfNeeded: id), reply[2] & 0x80 != 0, reply[4] == request[4], reply[5] == request[5]
        else { return false }
        for index in DNSHeader.byteCount..<questionEnd where DomainName.lowercase(reply[index]) != DomainName.lowercase(request[index]) {
            return false
        }
        return true
    }

    static func questionEnd(_ query: [UInt8]) -> Int? {
        query.withUnsafeBytes { WireName.firstQuestion($0)?.end }
    }
}
