import DNSWire

#if canImport(Glibc)
import Glibc
#endif

/// Response rate limiting for UDP (issue #11 item 8), after NSD's and BIND's RRL: a server that
/// answers spoofed queries becomes an amplifier (5.2× on the demo data, about 20× with large
/// answers), so identical responses to one client beyond a rate are dropped, and every `slip`th
/// of those is sent as an empty truncated reply instead, which sends a real client to TCP,
/// where spoofing is impossible (RFC 7766).
///
/// "Identical" is the client's prefix, the question (name in DNS lower case, type) and the
/// response code; NXDOMAIN answers of one client count as one stream whatever the name, so a
/// flood of random names is limited too. Each serving thread keeps its own table (no locks on
/// the query path), a fixed array of buckets indexed by hash: memory is bounded, and a bucket a
/// newcomer hashes to is taken over, which can only let a response through, never drop one
/// that is within its rate.
public struct ResponseRateLimiter {
    public struct Settings: Sendable, Equatable {
        /// Identical responses per second per client prefix; beyond it they are limited.
        public var responsesPerSecond: Int
        /// Every `slip`th limited response is sent truncated (0: all are dropped).
        public var slip: Int
        /// Clients are grouped by these prefixes. Kubernetes gives each node a /24 of pod
        /// addresses, so NSD's default /24 would make every pod of a node one client.
        public var ipv4PrefixLength: Int
        public var ipv6PrefixLength: Int

        public init(responsesPerSecond: Int, slip: Int = 2, ipv4PrefixLength: Int = 32, ipv6PrefixLength: Int = 64) {
            self.responsesPerSecond = responsesPerSecond
            self.slip = slip
            self.ipv4PrefixLength = ipv4PrefixLength
            self.ipv6PrefixLength = ipv6PrefixLength
        }
    }

    enum Decision: Equatable { case send, truncate, drop }

    private struct Bucket {
        var key: UInt64 = 0
        var second: UInt32 = 0
        var count: UInt32 = 0
        var limited: UInt32 = 0
    }

    static let bucketCount = 1 << 16
    let settings: Settings
    private var buckets: [Bucket]

    init(settings: Settings) {
        self.settings = settings
        buckets = Array(repeating: Bucket(), count: Self.bucketCount)
    }

    /// What to do with `reply` (its first bytes: header and question), about to go to
    /// `client`; `second` is a monotonic second count.
    mutating func decide(reply: UnsafeRawBufferPointer, client: sockaddr_storage, second: UInt32) -> Decision {
        guard reply.count > DNSHeader.byteCount, let address = IPAddress(socketAddress: client) else { return .send }
        let key = Self.key(reply, prefix: prefix(of: address)) | 1  // never 0, the empty bucket's key
        let index = Int(truncatingIfNeeded: key >> 48) & (Self.bucketCount - 1)
        if buckets[index].key != key || buckets[index].second != second {
            if buckets[index].key != key { buckets[index].limited = 0 }
            buckets[index].key = key
            buckets[index].second = second
            buckets[index].count = 0
        }
        buckets[index].count &+= 1
        guard Int(buckets[index].count) > settings.responsesPerSecond else { return .send }
        buckets[index].limited &+= 1
        return settings.slip > 0 && Int(buckets[index].limited) % settings.slip == 0 ? .truncate : .drop
    }

    /// The client's address with its host bits cleared, as two words.
    private func prefix(of address: IPAddress) -> (UInt64, UInt64) {
        switch address {
        case .v4(let value):
            let length = max(0, min(32, settings.ipv4PrefixLength))
            let mask: UInt32 = length == 0 ? 0 : ~0 << (32 - length)
            return (UInt64(value & mask), 4)
        case .v6(let high, let low):
            let length = max(0, min(128, settings.ipv6PrefixLength))
            let highMask: UInt64 = length == 0 ? 0 : length >= 64 ? ~0 : ~0 << (64 - length)
            let lowMask: UInt64 = length <= 64 ? 0 : length == 128 ? ~0 : ~0 << (128 - length)
            return (high & highMask, (low & lowMask) ^ 6)
        }
    }

    /// FNV-1a over the prefix, the response code and, unless NXDOMAIN, the question name (ASCII
    /// lower-cased, RFC 4343) and type. A question that cannot be walked hashes what was read.
    private static func key(_ reply: UnsafeRawBufferPointer, prefix: (UInt64, UInt64)) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        for shift in stride(from: 0, to: 64, by: 8) {
            mix(UInt8(truncatingIfNeeded: prefix.0 >> shift))
            mix(UInt8(truncatingIfNeeded: prefix.1 >> shift))
        }
        let rcode = reply[3] & 0x0F
        mix(rcode)
        guard rcode != UInt8(ResponseCode.nxDomain.rawValue) else { return hash ^ (hash >> 29) }
        var position = DNSHeader.byteCount
        while position < reply.count {
            let length = Int(reply[position])
            mix(UInt8(length))
            if length == 0 || length & 0xC0 != 0 { break }
            for offset in 1...length where position + offset < reply.count {
                mix(DomainName.lowercase(reply[position + offset]))
            }
            position += 1 + length
        }
        if position + 2 < reply.count {
            mix(reply[position + 1])
            mix(reply[position + 2])
        }
        return hash ^ (hash >> 29)
    }

    /// Rewrites the reply in `output` (its first `length` bytes) as an empty truncated one: the
    /// header with TC set and no records, and the question. Returns the new length.
    static func truncate(_ output: UnsafeMutableRawBufferPointer, length: Int) -> Int {
        guard length >= DNSHeader.byteCount else { return length }
        output[2] |= 0x02  // TC (RFC 1035 §4.1.1)
        for index in 6..<12 { output[index] = 0 }
        // The question is kept when it is one whole name (uncompressed, as a question is)
        // followed by type and class; otherwise the bare header goes, with no question.
        if output[4] == 0, output[5] == 1,
           let question = WireName.firstQuestion(UnsafeRawBufferPointer(rebasing: output[..<length])) {
            return question.end
        }
        output[4] = 0
        output[5] = 0
        return DNSHeader.byteCount
    }
}
