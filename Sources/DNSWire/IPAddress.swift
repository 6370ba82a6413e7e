#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address in network byte order, as A and AAAA rdata carry it.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    /// High and low 64 bits of the address.
    case v6(UInt64, UInt64)

    /// Parses dotted-quad or RFC 4291 text (no zone index, no brackets).
    public init?(_ text: String) {
        // inet_pton stops at a NUL that a Swift string carries on past.
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if text.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard text.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        self.init(v6Bytes: bytes[...])
    }

    /// Builds from 4 or 16 raw bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self.init(v6Bytes: Array(bytes)[...])
        default: return nil
        }
    }

    private init(v6Bytes bytes: ArraySlice<UInt8>) {
        let start = bytes.startIndex
        let high = bytes[start..<start + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[start + 8..<start + 16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self = .v6(high, low)
    }

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }

    /// The address as rdata bytes (4 or 16, network order).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
        }
    }

    /// Canonical text (RFC 5952 for IPv6), via inet_ntop.
    public var description: String {
        var storage = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, &storage, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The name Kubernetes DNS uses for an address as a label: `10-1-2-3`, `fd00--1`.
    public var dashed: String {
        description.map { $0 == "." || $0 == ":" ? "-" : $0 }.reduce(into: "") { $0.append($1) }
    }

    /// Reverse-lookup name: `d.c.b.a.in-addr.arpa` or the nibble form under `ip6.arpa`.
    public var reverseName: String {
        switch self {
        case .v4:
            return bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa"
        case .v6:
            let digits = Array("0123456789abcdef")
            var labels: [String] = []
            for byte in bytes.reversed() {
                labels.append(String(digits[Int(byte & 0xF)]))
                labels.append(String(digits[Int(byte >> 4)]))
            }
            return labels.joined(separator: ".") + ".ip6.arpa"
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case (.v6(let ah, let al), .v6(let bh, let bl)): return (ah, al) < (bh, bl)
        }
    }
}
