/// The fixed 12-byte message header (RFC 1035 §4.1.1).
public struct DNSHeader: Hashable, Sendable {
    public var id: UInt16
    public var flags: UInt16
    public var questionCount: UInt16
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16

    public static let byteCount = 12

    public init(
        id: UInt16 = 0, flags: UInt16 = 0, questionCount: UInt16 = 0, answerCount: UInt16 = 0,
        authorityCount: UInt16 = 0, additionalCount: UInt16 = 0
    ) {
        self.id = id
        self.flags = flags
        self.questionCount = questionCount
        self.answerCount = answerCount
        self.authorityCount = authorityCount
        self.additionalCount = additionalCount
    }

    public enum Flag: UInt16, Sendable, CaseIterable {
        case response = 0x8000
        case authoritative = 0x0400
        case truncated = 0x0200
        case recursionDesired = 0x0100
        case recursionAvailable = 0x0080
        case authenticData = 0x0020
        case checkingDisabled = 0x0010
    }

    public subscript(flag: Flag) -> Bool {
        get { flags & flag.rawValue != 0 }
        set { flags = newValue ? flags | flag.rawValue : flags & ~flag.rawValue }
    }

    public var opcode: Opcode {
        get { Opcode(rawValue: UInt8((flags >> 11) & 0xF)) }
        set { flags = (flags & ~0x7800) | (UInt16(newValue.rawValue & 0xF) << 11) }
    }

    /// The low four RCODE bits; extended bits live in the OPT record.
    public var rcodeLow: UInt8 {
        get { UInt8(flags & 0xF) }
        set { flags = (flags & ~0xF) | UInt16(newValue & 0xF) }
    }
}
