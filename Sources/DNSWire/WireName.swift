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
}
