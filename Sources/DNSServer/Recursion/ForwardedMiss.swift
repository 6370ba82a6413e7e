import DNSResponder
import DNSWire
import NIOCore

/// An out-of-zone query the cache could not answer, with what its answer needs once an upstream
/// replies: the cache entry it fills, and the stale entry or SERVFAIL when every upstream
/// fails. The datagram thread that received it sends it itself (`DatagramUpstreams`); any
/// other caller takes the forwarder's event loops (`resolvingLater`).
struct ForwardedMiss: Sendable {
    let forwarder: Forwarder
    /// The client's request, as received (its ID included).
    let request: [UInt8]
    let key: ResponseCache.Key
    let questionEnd: Int
    /// The size the client accepts over UDP; nil for a TCP client.
    let udpLimit: Int?
    /// The size the reply must fit, whatever the transport.
    let sizeLimit: Int
    let cache: ResponseCache?
    let responder: Responder

    /// The client's reply from the forwarder's answer: stored in the cache with capped TTLs,
    /// or, when every upstream failed, a stale entry or SERVFAIL (RFC 8767 §4).
    func reply(to result: Result<[UInt8], any Error>) -> [UInt8] {
        switch result {
        case .success(let reply):
            return cache?.relay(key, reply: reply) ?? ReplyTTLs.capped(reply, maxTTL: UInt32(Int32.max))
        case .failure:
            let stale = request.withUnsafeBytes { cache?.stale(key, request: $0, questionEnd: questionEnd) }
            return stale.flatMap { $0.count <= sizeLimit ? $0 : nil } ?? QueryPipeline.failure(request, responder: responder)
        }
    }

    /// The whole exchange through the forwarder's event loops.
    func resolvingLater() -> EventLoopFuture<[UInt8]?> {
        completing(forwarder.resolving(request, udpLimit: udpLimit))
    }

    /// `asked`'s answer made the client's reply. One promise and one callback, not a map and a
    /// recover: each future costs a miss allocations and reference counting (issue #10).
    func completing(_ asked: EventLoopFuture<[UInt8]>) -> EventLoopFuture<[UInt8]?> {
        let answer = asked.eventLoop.makePromise(of: [UInt8]?.self)
        asked.whenComplete { result in answer.succeed(reply(to: result)) }
        return answer.futureResult
    }
}
