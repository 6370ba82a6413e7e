import DNSWire

/// Completes an ExternalName answer whose CNAME target lies outside our zones: resolves the
/// target through the cache and the upstreams, as any forwarded question, and appends the
/// chain it leads to after our CNAME, so stub resolvers (which do not chase CNAMEs themselves)
/// get addresses in one round trip (issue #11 item 11).
struct ExternalNameChase: Sendable {
    let forwarder: Forwarder
    /// The resolver's cache: the target is looked up there first, and its answer stored.
    let cache: ResponseCache?

    /// More CNAMEs than this in an upstream answer end the chain (RFC 1034 §3.6.2 asks for a
    /// bound; resolvers use 8 to 16).
    static let maxChainLength = 16

    func complete(_ prefix: [UInt8], target: DomainName, type: RecordType, sizeLimit: Int) async -> [UInt8] {
        Self.compose(prefix, upstream: await resolve(target, type), target: target, type: type, sizeLimit: sizeLimit)
    }

    /// The completed answer when the target's answer is in the cache: composed on the caller's
    /// thread, with no task and no upstream (issue #10); nil on a miss.
    func completeFromCache(_ prefix: [UInt8], target: DomainName, type: RecordType, sizeLimit: Int) -> [UInt8]? {
        guard let cache else { return nil }
        let (request, key, questionEnd) = Self.request(for: target, type)
        guard case .hit(let reply, _) = request.withUnsafeBytes({ cache.lookup(key, request: $0, questionEnd: questionEnd) })
        else { return nil }
        return Self.compose(prefix, upstream: reply, target: target, type: type, sizeLimit: sizeLimit)
    }

    /// `prefix` (our reply ending in the CNAME to `target`) followed by the chain `upstream`
    /// answers for it; `prefix` alone when there is no usable upstream answer.
    private static func compose(_ prefix: [UInt8], upstream: [UInt8]?, target: DomainName, type: RecordType, sizeLimit: Int) -> [UInt8] {
        guard var reply = try? DNSMessage(decoding: prefix),
              let upstream = upstream.flatMap({ try? DNSMessage(decoding: $0) })
        else { return prefix }
        let original = reply
        let chain = Self.chain(in: upstream.answers, from: target, type: type)
        reply.answers += chain.filter { !reply.answers.contains($0) }
        // RFC 1035 §4.1.1: AA speaks for the answer; what the upstream supplied is not ours.
        if !chain.isEmpty { reply.header[.authoritative] = false }
        // RFC 6604 §3: the RCODE describes the last name in the chain.
        if upstream.responseCode == .nxDomain { reply.header.rcodeLow = UInt8(ResponseCode.nxDomain.rawValue) }
        let encoded = reply.encoded()
        guard encoded.count > sizeLimit else { return encoded }
        var truncated = original
        truncated.header[.truncated] = true
        return truncated.encoded()
    }

    /// The upstream's reply for `target`: a fresh cache entry if there is one, else asked and
    /// stored like any forwarded answer (TTLs capped as the cache caps them).
    private func resolve(_ target: DomainName, _ type: RecordType) async -> [UInt8]? {
        let (bytes, key, questionEnd) = Self.request(for: target, type)
        if let cache, case .hit(let reply, _) = bytes.withUnsafeBytes({ cache.lookup(key, request: $0, questionEnd: questionEnd) }) {
            return reply
        }
        guard let reply = try? await forwarder.resolve(bytes, udpLimit: 65535) else { return nil }
        return cache?.relay(key, reply: reply) ?? ReplyTTLs.capped(reply, maxTTL: UInt32(Int32.max))
    }

    /// The question for `target` as we ask it upstream, and its cache key.
    private static func request(for target: DomainName, _ type: RecordType) -> (bytes: [UInt8], key: ResponseCache.Key, questionEnd: Int) {
        var request = DNSMessage(questions: [DNSQuestion(name: target, type: type)], edns: EDNSRecord(udpPayloadSize: 1232))
        request.header.id = UInt16.random(in: .min ... .max)
        request.header[.recursionDesired] = true
        let key = ResponseCache.Key(
            name: target.lowercasedWire, type: type, recordClass: .in, edns: true, dnssecOK: false, checkingDisabled: false)
        return (request.encoded(), key, DNSHeader.byteCount + target.wire.count + 4)
    }

    /// The records of `answers` that continue the chain from `name`: the CNAMEs it follows,
    /// then the `type` records of the name it ends at. Anything else an upstream put in its
    /// answer section is left out.
    static func chain(in answers: [ResourceRecord], from name: DomainName, type: RecordType) -> [ResourceRecord] {
        var name = name, chain: [ResourceRecord] = []
        for _ in 0...maxChainLength {
            let owned = answers.filter { $0.name == name }
            if type != .cname, let alias = owned.first(where: { $0.type == .cname }), case .cname(let next) = alias.data {
                chain.append(alias)
                name = next
                continue
            }
            return chain + owned.filter { $0.type == type }
        }
        return chain
    }
}
