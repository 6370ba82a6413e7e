#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A domain name in uncompressed wire form (length-prefixed labels ending in the root label).
/// Spelling is preserved; equality and hashing are ASCII case-insensitive (RFC 4343).
public struct DomainName: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Wire bytes, always ending in 0.
    public private(set) var wire: [UInt8]

    public static let maxWireLength = 255
    public static let maxLabelLength = 63
    public static let root = DomainName(uncheckedWire: [0])

    /// Trusts `wire` to be well formed; for code that has just validated it.
    init(uncheckedWire wire: [UInt8]) { self.wire = wire }

    /// Validates label lengths, the terminal root label and the 255-byte limit.
    public init(wire: [UInt8]) throws(DNSWireError) {
        var index = 0
        while true {
            guard index < wire.count else { throw .truncated(at: index) }
            let length = Int(wire[index])
            if length == 0 { break }
            guard length <= Self.maxLabelLength else { throw .labelTooLong(at: index) }
            index += 1 + length
        }
        guard index + 1 == wire.count else { throw .trailingBytes(at: index + 1) }
        guard wire.count <= Self.maxWireLength else { throw .nameTooLong(at: 0) }
        self.wire = wire
    }

    /// Builds from labels (no dots, no escapes); throws on over-long labels or names.
    public init(labels: some Sequence<some Collection<UInt8>>) throws(DNSWireError) {
        var wire: [UInt8] = []
        for label in labels {
            guard !label.isEmpty else { throw .invalidPresentation("empty label") }
            guard label.count <= Self.maxLabelLength else { throw .labelTooLong(at: wire.count) }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
        }
        wire.append(0)
        guard wire.count <= Self.maxWireLength else { throw .nameTooLong(at: 0) }
        self.wire = wire
    }

    /// Parses presentation form: `a.b.c` or `a.b.c.` (both absolute), `.` for the root,
    /// with `\.` and `\DDD` escapes (RFC 1035 §5.1).
    public init(_ text: String) throws(DNSWireError) {
        if text == "." { self = .root; return }
        guard !text.isEmpty else { throw .invalidPresentation(text) }
        var labels: [[UInt8]] = [[]]
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                guard !labels[labels.count - 1].isEmpty else { throw .invalidPresentation(text) }
                labels.append([])
            case UInt8(ascii: "\\"):
                let digits = bytes.prefix(3)
                if digits.count == 3, digits.allSatisfy({ (48...57).contains($0) }) {
                    let value = digits.reduce(0) { $0 * 10 + Int($1) - 48 }
                    guard value <= 255 else { throw .invalidPresentation(text) }
                    labels[labels.count - 1].append(UInt8(value))
                    bytes = bytes.dropFirst(3)
                } else if let escaped = bytes.popFirst(), !(48...57).contains(escaped) {
                    // `\X` for a non-digit X; a digit must start a full `\DDD`.
                    labels[labels.count - 1].append(escaped)
                } else {
                    throw .invalidPresentation(text)
                }
            default:
                labels[labels.count - 1].append(byte)
            }
        }
        if labels.last?.isEmpty == true { labels.removeLast() }
        try self.init(labels: labels)
    }

    public var isRoot: Bool { wire.count == 1 }

    /// Labels from left to right, without length bytes.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[index + 1...index + length])
            index += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0, index = 0
        while wire[index] != 0 {
            count += 1
            index += 1 + Int(wire[index])
        }
        return count
    }

    /// The wire form with ASCII letters folded to lower case: the key our tables use.
    public var lowercasedWire: [UInt8] { wire.map(Self.lowercase) }

    /// Names are usually lower case already; sharing the storage then saves an allocation.
    public func lowercased() -> DomainName {
        wire.contains(where: { Self.lowercase($0) != $0 }) ? DomainName(uncheckedWire: lowercasedWire) : self
    }

    /// The name with its first label removed; the root stays the root.
    public var parent: DomainName {
        guard !isRoot else { return self }
        return DomainName(uncheckedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// `label` + "." + self.
    public func prepending(_ label: String) throws(DNSWireError) -> DomainName {
        try prepending(labels: DomainName(label).labels)
    }

    /// Builds the wire directly rather than via `labels`: snapshot builds call this per name.
    /// Only the new labels need checking, and they come first, so error offsets are unchanged.
    public func prepending(labels: [ArraySlice<UInt8>]) throws(DNSWireError) -> DomainName {
        var result: [UInt8] = []
        result.reserveCapacity(labels.reduce(wire.count) { $0 + 1 + $1.count })
        for label in labels { try Self.append(label, to: &result) }
        return try finishPrepending(&result)
    }

    /// `label` (its UTF-8 bytes) + "." + self, checked as `prepending(labels:)` checks. A
    /// full build makes a name per endpoint and per port: this makes no label arrays first.
    public func prepending(utf8Label label: some StringProtocol) throws(DNSWireError) -> DomainName {
        var result: [UInt8] = []
        result.reserveCapacity(1 + label.utf8.count + wire.count)
        try Self.append(label.utf8, to: &result)
        return try finishPrepending(&result)
    }

    /// `first` + "." + `second` + "." + self, checked as `prepending(labels:)` checks.
    public func prepending(utf8Label first: some StringProtocol, then second: some StringProtocol) throws(DNSWireError) -> DomainName {
        var result: [UInt8] = []
        result.reserveCapacity(2 + first.utf8.count + second.utf8.count + wire.count)
        try Self.append(first.utf8, to: &result)
        try Self.append(second.utf8, to: &result)
        return try finishPrepending(&result)
    }

    /// `labels` (their UTF-8 bytes, leftmost first) + "." + self, checked as
    /// `prepending(labels:)` checks: no array per label (a full build names every Service so).
    public func prepending(utf8Labels labels: [String]) throws(DNSWireError) -> DomainName {
        var result: [UInt8] = []
        result.reserveCapacity(labels.reduce(wire.count) { $0 + 1 + $1.utf8.count })
        for label in labels { try Self.append(label.utf8, to: &result) }
        return try finishPrepending(&result)
    }

    /// Appends one label, length byte first, after checking it as every `prepending` does.
    private static func append(_ label: some Collection<UInt8>, to result: inout [UInt8]) throws(DNSWireError) {
        let count = label.count
        guard count > 0 else { throw .invalidPresentation("empty label") }
        guard count <= maxLabelLength else { throw .labelTooLong(at: result.count) }
        result.append(UInt8(count))
        result.append(contentsOf: label)
    }

    private func finishPrepending(_ result: inout [UInt8]) throws(DNSWireError) -> DomainName {
        result.append(contentsOf: wire)
        guard result.count <= Self.maxWireLength else { throw .nameTooLong(at: 0) }
        return DomainName(uncheckedWire: result)
    }

    /// True when `self` equals `zone` or lies below it.
    public func isSubdomain(of zone: DomainName) -> Bool {
        guard wire.count >= zone.wire.count else { return false }
        let suffixStart = wire.count - zone.wire.count
        // The suffix must start on a label boundary.
        var index = 0
        while index < suffixStart { index += 1 + Int(wire[index]) }
        guard index == suffixStart else { return false }
        for offset in 0..<zone.wire.count
        where Self.lowercase(wire[suffixStart + offset]) != Self.lowercase(zone.wire[offset]) {
            return false
        }
        return true
    }

    /// Presentation form with the trailing dot, escaping what RFC 1035 §5.1 requires.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"),
                     UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text.append("\\")
                    text.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7E:
                    text.append(Character(Unicode.Scalar(byte)))
                default:
                    let digits = String(byte)
                    text.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
            text.append(".")
        }
        return text
    }

    @inline(__always)
    public static func lowercase(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    public static func == (lhs: DomainName, rhs: DomainName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        return lhs.wire.withUnsafeBufferPointer { left in
            rhs.wire.withUnsafeBufferPointer { right in
                // Names are nearly always stored lower-cased already: equal bytes settle it at once.
                if memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 { return true }
                for index in 0..<left.count where lowercase(left[index]) != lowercase(right[index]) { return false }
                return true
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        // Folded bytes packed eight to a word: hashing byte by byte is several times slower,
        // and copying the wire to fold it costs an allocation per hash.
        wire.withUnsafeBufferPointer { bytes in
            var word: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                word = word << 8 | UInt64(Self.lowercase(byte))
                if index & 7 == 7 {
                    hasher.combine(word)
                    word = 0
                }
            }
            hasher.combine(word)
            hasher.combine(bytes.count)
        }
    }

    /// Canonical DNS order (RFC 4034 §6.1): compare label by label from the right.
    public static func < (lhs: DomainName, rhs: DomainName) -> Bool {
        let left = lhs.lowercased().labels.reversed(), right = rhs.lowercased().labels.reversed()
        for (a, b) in zip(left, right) where a != b {
            return a.lexicographicallyPrecedes(b)
        }
        return left.count < right.count
    }
}
