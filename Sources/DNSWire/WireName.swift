/// Walks one name in wire form without following its compression pointer (RFC 1035 §4.1.4):
/// what skipping a record, or checking where its pointer leads, needs. One walker for every
/// caller, so the rules for labels, pointers and the reserved 0x40/0x80 forms live once.
public enum WireName {
    /// The end of the name at `start` and, when it ends in a pointer, the pointer's target and
    /// its own offset; nil when it is malformed or runs past `bytes`.
    @inline(__always)
    public static func walk(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (end: Int, pointer: (at: Int, target: Int)?)? {
        var position = start
        while position < bytes.count {
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 { return (position + 1, nil) }
                position += 1 + Int(length)
            case 0xC0:
                guard position + 2 <= bytes.count else { return nil }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                return (position + 2, (position, target))
            default:
                return nil  // 0x40 and 0x80 are reserved (RFC 6891 §5 retired 0x40's use)
            }
        }
        return nil
    }

    /// The end of the name at `start`; nil when it is malformed or runs past `bytes`.
    @inline(__always)
    public static func end(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? { walk(bytes, from: start)?.end }

    /// Whether the lower-cased wire name `name` ends with `suffix` (a lower-cased wire name,
    /// root included) on a label boundary: `b.example.com.` ends with `example.com.`,
    /// `bexample.com.` does not. Builds no `DomainName`.
    @inline(__always)
    public static func hasSuffix(_ name: UnsafeRawBufferPointer, _ suffix: UnsafeRawBufferPointer) -> Bool {
        guard suffix.count <= name.count, !suffix.isEmpty else { return false }
        let start = name.count - suffix.count
        var position = 0
        while position < start { position += 1 + Int(name[position]) }
        return position == start && memcmp(name.baseAddress! + start, suffix.baseAddress!, suffix.count) == 0
    }

    /// The first question of a message: where its name ends, its type, and where it ends. A
    /// question's name is never compressed (RFC 1035 §4.1.2); nil when the message has no
    /// whole question of that form.
    @inline(__always)
    public static func firstQuestion(_ message: UnsafeRawBufferPointer) -> (nameEnd: Int, type: UInt16, end: Int)? {
        guard let name = walk(message, from: DNSHeader.byteCount), name.pointer == nil, name.end + 4 <= message.count else {
            return nil
        }
        return (name.end, UInt16(message[name.end]) << 8 | UInt16(message[name.end + 1]), name.end + 4)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
