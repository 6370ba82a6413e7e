@testable import DNSServer
import DNSWire

/// An upstream's reply to one of a few queries (the first byte chooses which) through what the
/// forwarder does with it: matching it to the query (RFC 5452 §9.1), cutting it for a small
/// client (RFC 2181 §9), capping its TTLs, and storing it in the cache and answering from there.
enum ForwarderReplyTarget {
    nonisolated(unsafe) private static var queries: [(bytes: [UInt8], key: ResponseCache.Key)] = []
    nonisolated(unsafe) private static var cache = ResponseCache(settings: .init(capacity: 64, maxTTL: 300))

    static func prepare() {
        let questions: [(String, RecordType, Bool)] = [
            ("www.example.com", .a, true), ("Mixed.Example.ORG", .aaaa, false), ("_sip._udp.example.net", .srv, true),
            ("example.com", .txt, true),
        ]
        for (name, type, edns) in questions {
            guard let domain = try? DomainName(name) else { fatalError("bad seed name \(name)") }
            var message = DNSMessage(questions: [DNSQuestion(name: domain, type: type)], edns: edns ? EDNSRecord(udpPayloadSize: 1232) : nil)
            message.header.id = 0x1234
            message.header[.recursionDesired] = true
            let key = ResponseCache.Key(
                name: domain.lowercasedWire, type: type, recordClass: .in, edns: edns, dnssecOK: false, checkingDisabled: false)
            queries.append((message.encoded(), key))
        }
    }

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let selector = input.first else { return }
        let (query, key) = queries[Int(selector) % queries.count]
        let reply = Array(input.dropFirst())
        _ = UpstreamExchange.matches(reply, query)
        let truncated = UpstreamExchange.truncated(reply, query: query, payload: 512)
        require(truncated.count <= 512, "a truncated reply of \(truncated.count) bytes")
        if truncated.count >= 2 { require(truncated[0] == query[0] && truncated[1] == query[1], "the truncated reply lost the ID") }
        require(ReplyTTLs.capped(reply, maxTTL: 300).count == reply.count, "capping TTLs changed the length")
        let relayed = cache.relay(key, reply: reply)
        require(relayed.count == reply.count, "relaying changed the length")
        guard let questionEnd = UpstreamExchange.questionEnd(query) else { return }
        if case .hit(let answer, _) = query.withUnsafeBytes({ cache.lookup(key, request: $0, questionEnd: questionEnd) }) {
            require(answer.count >= DNSHeader.byteCount, "a cached answer shorter than a header")
            require(answer[0] == query[0] && answer[1] == query[1], "a cached answer without the client's ID")
        }
    }
}
