import DNSWire

/// Completes an ExternalName answer whose CNAME target lies outside our zones: asks the
/// upstreams for the target and appends their answer records after our CNAME, so stub
/// resolvers (which do not chase CNAMEs themselves) get addresses in one round trip.
struct ExternalNameChase: Sendable {
    let forwarder: Forwarder

    func complete(_ prefix: [UInt8], target: DomainName, type: RecordType, sizeLimit: Int) async -> [UInt8] {
        guard var reply = try? DNSMessage(decoding: prefix) else { return prefix }
        var request = DNSMessage(questions: [DNSQuestion(name: target, type: type)], edns: EDNSRecord(udpPayloadSize: 1232))
        request.header[.recursionDesired] = true
        guard let bytes = try? await forwarder.resolve(request.encoded(), udpLimit: 65535),
              let upstream = try? DNSMessage(decoding: bytes)
        else { return prefix }
        let original = reply
        reply.answers += upstream.answers.filter { !reply.answers.contains($0) }
        // RFC 6604 §3: the RCODE describes the last name in the chain.
        if upstream.responseCode == .nxDomain { reply.header.rcodeLow = UInt8(ResponseCode.nxDomain.rawValue) }
        let encoded = reply.encoded()
        guard encoded.count > sizeLimit else { return encoded }
        var truncated = original
        truncated.header[.truncated] = true
        return truncated.encoded()
    }
}
