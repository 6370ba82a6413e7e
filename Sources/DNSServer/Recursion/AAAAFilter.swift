import DNSWire

/// `--filter-aaaa` (issue #13): in an IPv4-only cluster, AAAA questions for names outside our
/// zones are half of all queries, each forwarded for an answer nobody can use. They get an
/// empty NOERROR (NODATA) at once instead, never forwarded; cluster names keep their AAAA
/// records, since the responder answers those before anything reaches the resolver.
///
/// The NODATA carries a synthetic SOA so that caches below us (a node-local cache, a stub that
/// caches) keep the negative answer for its TTL (RFC 2308 §5): owner the root, whose zone holds
/// every name, and names under `.invalid` (RFC 6761 §6.4) so it can never be mistaken for a real
/// zone's. Not authoritative: AA stays clear.
enum AAAAFilter {
    /// How long the NODATA may be cached below us: the SOA's TTL and MINIMUM.
    static let negativeTTL: UInt32 = 30

    /// `. SOA clusterdns.invalid. hostmaster.clusterdns.invalid. 1 <ttl> <ttl> <ttl> <ttl>`,
    /// everything after the owner.
    private static let soaRecord: [UInt8] = {
        var writer = WireWriter(capacity: 96)
        writer.compresses = false
        guard let mname = try? DomainName("clusterdns.invalid"), let rname = try? DomainName("hostmaster.clusterdns.invalid")
        else { return [] }
        writer.writeRData(.soa(SOAData(
            mname: mname, rname: rname, serial: 1, refresh: negativeTTL, retry: negativeTTL, expire: negativeTTL,
            minimum: negativeTTL)))
        return writer.bytes
    }()

    /// Writes the NODATA reply to `request` (parsed as `query`) into `output`; returns its
    /// length. The client's ID, RD and CD and its spelling of the question are kept; RA is set
    /// (we recurse for it); an OPT answers an OPT (RFC 6891 §7).
    static func write(request: UnsafeRawBufferPointer, query: QueryView, into output: UnsafeMutableRawBufferPointer) -> Int {
        var length = 0
        func put(_ byte: UInt8) {
            output[length] = byte
            length += 1
        }
        func put16(_ value: UInt16) {
            put(UInt8(value >> 8))
            put(UInt8(truncatingIfNeeded: value))
        }
        let questionEnd = min(query.questionEnd, request.count)
        let keptFlags = query.flags & (DNSHeader.Flag.recursionDesired.rawValue | DNSHeader.Flag.checkingDisabled.rawValue)
        put16(query.id)
        put16(DNSHeader.Flag.response.rawValue | DNSHeader.Flag.recursionAvailable.rawValue | keptFlags)
        put16(1)  // QDCOUNT
        put16(0)  // ANCOUNT
        put16(1)  // NSCOUNT: the SOA
        put16(query.edns == nil ? 0 : 1)
        for index in DNSHeader.byteCount..<questionEnd { put(request[index]) }
        put(0)  // owner: the root
        put16(RecordType.soa.rawValue)
        put16(RecordClass.in.rawValue)
        put16(UInt16(negativeTTL >> 16))
        put16(UInt16(truncatingIfNeeded: negativeTTL))
        put16(UInt16(soaRecord.count))
        for byte in soaRecord { put(byte) }
        if let edns = query.edns {
            put(0)  // root owner
            put16(41)  // OPT
            put16(1232)  // our UDP payload size (RFC 6891 §6.2.5)
            put(0)  // extended RCODE
            put(0)  // version 0
            put16(edns.dnssecOK ? 0x8000 : 0)  // DO echoed (RFC 3225 §3)
            put16(0)  // no options
        }
        return length
    }
}
