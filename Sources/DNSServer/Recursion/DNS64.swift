import DNSWire

/// `--dns64` (RFC 6147, issue #13): IPv6-only pods reach IPv4-only services through a NAT64
/// that owns a /96 prefix. For a forwarded name that has A records but no AAAA, AAAA records are
/// synthesized from the A records, each IPv4 address embedded in the prefix's last 32 bits
/// (RFC 6052 §2.2). PTR questions for addresses in the prefix get a CNAME to the IPv4 reverse
/// name, which is then resolved like any ExternalName target (RFC 6147 §5.3.1).
public struct DNS64: Sendable, Equatable {
    /// The prefix's first 96 bits: all of `high`, and the top half of `low`.
    let high: UInt64
    let lowTop: UInt32

    /// The TTL of the CNAME a PTR question inside the prefix gets: the mapping never changes.
    static let pointerAliasTTL: UInt32 = 3600

    /// The well-known prefix (RFC 6052 §2.1).
    public static let wellKnown = DNS64(prefix: "64:ff9b::/96")!

    /// A `/96` prefix in CIDR form; nil for anything else. (RFC 6052 also allows /32 to /64,
    /// with the IPv4 bits split around the reserved u octet; only /96, by far the most used,
    /// is supported.)
    public init?(prefix: String) {
        let parts = prefix.split(separator: "/")
        guard parts.count == 2, parts[1] == "96", case .v6(let high, let low)? = IPAddress(String(parts[0])),
              low & 0xFFFF_FFFF == 0
        else { return nil }
        self.high = high
        lowTop = UInt32(truncatingIfNeeded: low >> 32)
    }

    /// The IPv6 address that stands for `ipv4`.
    func synthesized(_ ipv4: UInt32) -> IPAddress {
        .v6(high, UInt64(lowTop) << 32 | UInt64(ipv4))
    }

    // MARK: - AAAA

    /// Whether an upstream's AAAA reply leaves the name without usable IPv6 addresses: NOERROR
    /// and no AAAA record outside the excluded `::ffff:0:0/96` (RFC 6147 §5.1.1, §5.1.4).
    /// NXDOMAIN and errors are passed on as they are.
    static func needsSynthesis(_ reply: [UInt8]) -> Bool {
        guard let message = try? DNSMessage(decoding: reply), message.responseCode == .noError else { return false }
        return !message.answers.contains { record in
            guard case .aaaa(let address) = record.data else { return false }
            if case .v6(0, let low) = address, low >> 32 == 0x0000_FFFF { return false }  // IPv4-mapped
            return true
        }
    }

    /// The AAAA reply to send: `aaaaReply`'s header, question and OPT, with the A reply's CNAME
    /// chain and a synthesized AAAA for each of its A records. The TTL is the A record's,
    /// capped by the negative TTL the AAAA reply's SOA allows (RFC 6147 §5.1.7). Nil when the A
    /// reply has no addresses: the AAAA reply stands.
    func synthesize(aaaaReply: [UInt8], aReply: [UInt8]) -> [UInt8]? {
        guard var message = try? DNSMessage(decoding: aaaaReply), let addresses = try? DNSMessage(decoding: aReply),
              addresses.responseCode == .noError
        else { return nil }
        let negativeTTL = message.authorities.compactMap { record -> UInt32? in
            guard case .soa(let soa) = record.data else { return nil }
            return min(record.ttl, soa.minimum)
        }.min()
        var answers: [ResourceRecord] = []
        for record in addresses.answers {
            switch record.data {
            case .cname:
                answers.append(record)
            case .a(let address):
                guard case .v4(let value) = address else { continue }
                answers.append(ResourceRecord(
                    name: record.name, ttl: min(record.ttl, negativeTTL ?? .max), data: .aaaa(synthesized(value))))
            default:
                continue
            }
        }
        guard answers.contains(where: { $0.type == .aaaa }) else { return nil }
        message.answers = answers
        message.authorities = []
        message.additionals = []
        return message.encoded()
    }

    /// `request` (an AAAA question) asking for A instead: the two type bytes before the class.
    static func addressRequest(_ request: [UInt8], questionEnd: Int) -> [UInt8]? {
        guard questionEnd <= request.count, questionEnd >= DNSHeader.byteCount + 5 else { return nil }
        var asking = request
        asking[questionEnd - 4] = 0
        asking[questionEnd - 3] = UInt8(RecordType.a.rawValue)
        return asking
    }

    // MARK: - PTR

    /// For a PTR name inside the prefix's `ip6.arpa` tree: the IPv4 address's reverse name.
    func ipv4ReverseName(for name: DomainName) -> DomainName? {
        guard case .v6(let high, let low)? = IPAddress(reverseDomainName: name), high == self.high,
              UInt32(truncatingIfNeeded: low >> 32) == lowTop
        else { return nil }
        return IPAddress.v4(UInt32(truncatingIfNeeded: low)).reverseDomainName
    }
}

