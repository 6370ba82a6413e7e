/// Why a packet could not be decoded. Offsets are byte positions in the message.
public enum DNSWireError: Error, Hashable, Sendable {
    case truncated(at: Int)
    case pointerLoop(at: Int)
    /// A compression pointer where none is allowed (the question of a query).
    case unexpectedPointer(at: Int)
    case labelTooLong(at: Int)
    case nameTooLong(at: Int)
    /// Label type bits 01 or 10 (RFC 6891 §5 retired extended labels).
    case badLabelType(at: Int)
    case badRData(type: RecordType, at: Int)
    /// Bytes left over after the last section.
    case trailingBytes(at: Int)
    case invalidPresentation(String)
}
