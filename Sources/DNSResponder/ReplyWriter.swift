import ClusterRegistry
import DNSWire

/// Writes a reply into scratch memory: header, the client's own question bytes (their
/// spelling), then sections. Callers stay within `limit`, which never exceeds the scratch size.
struct ReplyWriter {
    let output: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(output: UnsafeMutableRawBufferPointer) { self.output = output }

    @inline(__always)
    mutating func uint16(_ value: UInt16) {
        output[count] = UInt8(value >> 8)
        output[count + 1] = UInt8(truncatingIfNeeded: value)
        count += 2
    }

    @inline(__always)
    mutating func uint32(_ value: UInt32) {
        uint16(UInt16(value >> 16))
        uint16(UInt16(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        guard !source.isEmpty else { return }
        UnsafeMutableRawBufferPointer(rebasing: output[count..<count + source.count]).copyMemory(from: source)
        count += source.count
    }

    mutating func characterString(_ text: StaticString) {
        output[count] = UInt8(text.utf8CodeUnitCount)
        count += 1
        bytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func setUInt16(_ value: UInt16, at offset: Int) {
        output[offset] = UInt8(value >> 8)
        output[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Header with QR set, opcode/RD/CD copied from the request (RFC 1035 §4.1.1, RFC 4035 §3.1.6).
    mutating func header(
        id: UInt16, requestFlags: UInt16, rcode: ResponseCode, authoritative: Bool, recursionAvailable: Bool,
        counts: (UInt16, UInt16, UInt16, UInt16)
    ) {
        var flags = DNSHeader.Flag.response.rawValue
        flags |= requestFlags & (0x7800 | DNSHeader.Flag.recursionDesired.rawValue | DNSHeader.Flag.checkingDisabled.rawValue)
        if authoritative { flags |= DNSHeader.Flag.authoritative.rawValue }
        if recursionAvailable { flags |= DNSHeader.Flag.recursionAvailable.rawValue }
        flags |= rcode.rawValue & 0xF
        count = 0
        uint16(id)
        uint16(flags)
        uint16(counts.0)
        uint16(counts.1)
        uint16(counts.2)
        uint16(counts.3)
    }

    mutating func setTruncated() { output[2] |= UInt8(DNSHeader.Flag.truncated.rawValue >> 8) }

    /// OPT record: our payload size, the extended RCODE bits, DO copied (RFC 3225 §3).
    mutating func opt(payload: Int, rcode: ResponseCode, dnssecOK: Bool) {
        output[count] = 0
        count += 1
        uint16(RecordType.opt.rawValue)
        uint16(UInt16(payload))
        uint32(UInt32(rcode.rawValue >> 4) << 24 | (dnssecOK ? 0x8000 : 0))
        uint16(0)
    }

    static let optLength = 11

    /// A record whose owner is a compression pointer into the question (`offset` < 0x4000).
    mutating func recordHeader(ownerOffset: Int, type: RecordType, ttl: UInt32, rdataLength: Int) {
        uint16(0xC000 | UInt16(ownerOffset))
        uint16(type.rawValue)
        uint16(RecordClass.in.rawValue)
        uint32(ttl)
        uint16(UInt16(rdataLength))
    }
}
