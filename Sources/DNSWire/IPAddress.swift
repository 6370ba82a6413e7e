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

    /// The address of a socket address as the kernel fills it in (`recvmmsg`): no string.
    public init?(socketAddress storage: sockaddr_storage) {
        var storage = storage
        let family = Int32(storage.ss_family)
        let address: IPAddress? = withUnsafeBytes(of: &storage) { raw in
            switch family {
            case AF_INET:
                let v4 = raw.loadUnaligned(fromByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!, as: in_addr.self)
                return .v4(UInt32(bigEndian: v4.s_addr))
            case AF_INET6:
                let offset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
                return .v6(UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                           UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)))
            default:
                return nil
            }
        }
        guard let address else { return nil }
        self = address
    }

    /// Parses a NUL-terminated address in place: no String, no array (pod names are parsed per
    /// query). `family` is AF_INET or AF_INET6.
    public init?(cString text: UnsafePointer<CChar>, family: Int32) {
        if family == AF_INET {
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
            self = .v4(UInt32(bigEndian: v4.s_addr))
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
            self = withUnsafeBytes(of: &v6) { raw in
                .v6(UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                    UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
        }
    }

    /// The rdata bytes (4 or 16, network order) without building an array.
    public func withRDataBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch self {
        case .v4(let value): return withUnsafeBytes(of: value.bigEndian, body)
        case .v6(let high, let low): return withUnsafeBytes(of: (high.bigEndian, low.bigEndian), body)
        }
    }

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

    /// Canonical text (RFC 5952 for IPv6): IPv4 written directly, IPv6 via inet_ntop.
    public var description: String {
        switch self {
        case .v4(let value):
            return Self.dottedQuad(value, separator: UInt8(ascii: "."))
        case .v6:
            // Written into the String's own storage: INET6_ADDRSTRLEN counts the NUL.
            let capacity = Int(INET6_ADDRSTRLEN)
            return String(unsafeUninitializedCapacity: capacity) { text in
                withRDataBytes { bytes in
                    text.withMemoryRebound(to: CChar.self) { text in
                        inet_ntop(AF_INET6, bytes.baseAddress, text.baseAddress, socklen_t(capacity)) == nil ? 0 : strlen(text.baseAddress!)
                    }
                }
            }
        }
    }

    /// The name Kubernetes DNS uses for an address as a label: `10-1-2-3`, `fd00--1`.
    /// Written byte by byte: a registry build makes one per endpoint without a hostname, and
    /// going through the text and its arrays was 7 of a Service's 150 allocations (issue #9).
    public var dashed: String {
        guard case .v4(let value) = self else {
            let text = description
            return String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
                for (index, byte) in text.utf8.enumerated() { buffer[index] = byte == UInt8(ascii: ":") ? UInt8(ascii: "-") : byte }
                return text.utf8.count
            }
        }
        return Self.dottedQuad(value, separator: UInt8(ascii: "-"))
    }

    /// `a.b.c.d` with `separator` between the decimal bytes (at most 15 bytes: a small String,
    /// stored inline).
    private static func dottedQuad(_ value: UInt32, separator: UInt8) -> String {
        String(unsafeUninitializedCapacity: 15) { text in
            var length = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let byte = UInt8(truncatingIfNeeded: value >> UInt32(shift))
                if byte >= 100 { text[length] = UInt8(ascii: "0") + byte / 100; length += 1 }
                if byte >= 10 { text[length] = UInt8(ascii: "0") + byte / 10 % 10; length += 1 }
                text[length] = UInt8(ascii: "0") + byte % 10
                length += 1
                if shift > 0 { text[length] = separator; length += 1 }
            }
            return length
        }
    }

    /// Reverse-lookup name: `d.c.b.a.in-addr.arpa` or the nibble form under `ip6.arpa`.
    /// `reverseName` as a name, built in wire form directly: a registry build makes one per
    /// ClusterIP and endpoint, and parsing text was a tenth of it.
    public var reverseDomainName: DomainName {
        var wire: [UInt8] = []
        switch self {
        case .v4(let value):
            wire.reserveCapacity(30)
            for shift in stride(from: 0, through: 24, by: 8) {
                let byte = UInt8(truncatingIfNeeded: value >> UInt32(shift))
                let digits = byte >= 100 ? 3 : byte >= 10 ? 2 : 1
                wire.append(UInt8(digits))
                if digits == 3 { wire.append(UInt8(ascii: "0") + byte / 100) }
                if digits >= 2 { wire.append(UInt8(ascii: "0") + byte / 10 % 10) }
                wire.append(UInt8(ascii: "0") + byte % 10)
            }
            wire.append(contentsOf: Self.inAddrArpa)
        case .v6(let high, let low):
            wire.reserveCapacity(74)
            for half in [low, high] {
                for shift in stride(from: 0, to: 64, by: 4) {
                    let nibble = UInt8(truncatingIfNeeded: half >> UInt64(shift) & 0xF)
                    wire.append(1)
                    wire.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
                }
            }
            wire.append(contentsOf: Self.ip6Arpa)
        }
        return DomainName(uncheckedWire: wire)
    }

    /// The reverse zones' apexes in wire form, appended to every reverse name: built once, not
    /// from four temporary arrays per name.
    private static let inAddrArpa: [UInt8] = [7] + Array("in-addr".utf8) + [4] + Array("arpa".utf8) + [0]
    private static let ip6Arpa: [UInt8] = [3] + Array("ip6".utf8) + [4] + Array("arpa".utf8) + [0]

    /// The address a reverse-lookup name stands for: `d.c.b.a.in-addr.arpa` (decimal labels
    /// without leading zeros) or 32 nibble labels under `ip6.arpa`, in any case; nil for any
    /// other name, including the partial names of a reverse zone's upper levels.
    public init?(reverseDomainName name: DomainName) {
        let labels = name.labels.map { Array($0.map(DomainName.lowercase)) }
        guard let arpa = labels.last, arpa == Array("arpa".utf8), labels.count >= 2 else { return nil }
        let zone = labels[labels.count - 2]
        if zone == Array("in-addr".utf8), labels.count == 6 {
            var value: UInt32 = 0
            for label in labels.prefix(4).reversed() {
                guard (1...3).contains(label.count), label.allSatisfy({ (48...57).contains($0) }),
                      label.count == 1 || label.first != UInt8(ascii: "0")
                else { return nil }
                let octet = label.reduce(0) { $0 * 10 + Int($1 - 48) }
                guard octet <= 255 else { return nil }
                value = value << 8 | UInt32(octet)
            }
            self = .v4(value)
        } else if zone == Array("ip6".utf8), labels.count == 34 {
            var high: UInt64 = 0, low: UInt64 = 0
            for (index, label) in labels.prefix(32).enumerated() {
                guard label.count == 1, let nibble = Self.hexValue(label[0]) else { return nil }
                if index < 16 {
                    low |= UInt64(nibble) << UInt64(4 * index)
                } else {
                    high |= UInt64(nibble) << UInt64(4 * (index - 16))
                }
            }
            self = .v6(high, low)
        } else {
            return nil
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

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
