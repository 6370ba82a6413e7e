/// What the per-query path needs from a request, decoded in stages without allocating
/// (DESIGN.md §3 step 2). The question name is copied lower-cased into caller storage.
public struct QueryView: Sendable {
    public var id: UInt16
    public var flags: UInt16
    public var type: RecordType
    public var recordClass: RecordClass
    /// Length of the (uncompressed) question name in wire form.
    public var nameLength: Int
    /// End of the question section (12 + nameLength + 4): the bytes to echo.
    public var questionEnd: Int { DNSHeader.byteCount + nameLength + 4 }
    /// The client's OPT record, if any.
    public var edns: EDNSInfo?

    public struct EDNSInfo: Sendable, Equatable {
        public var udpPayloadSize: UInt16
        public var version: UInt8
        public var dnssecOK: Bool
    }

    public var opcode: Opcode { Opcode(rawValue: UInt8((flags >> 11) & 0xF)) }
    public var recursionDesired: Bool { flags & DNSHeader.Flag.recursionDesired.rawValue != 0 }
    public var checkingDisabled: Bool { flags & DNSHeader.Flag.checkingDisabled.rawValue != 0 }
}

/// The outcome of staged decoding; each failure says how the server must react.
public enum QueryParseResult: Sendable {
    case query(QueryView)
    /// Too short to carry an ID, or a response (QR=1): answer nothing (no reflection).
    case drop
    /// Reply with this RCODE and no question (ID, opcode and RD copied from the request).
    case reject(ResponseCode, id: UInt16, flags: UInt16)
}

public enum QueryParser {
    /// Decodes `packet`, writing the lower-cased question name into `nameBuffer` (≥ 255 bytes).
    public static func parse(
        _ packet: UnsafeRawBufferPointer, nameBuffer: UnsafeMutableRawBufferPointer
    ) -> QueryParseResult {
        guard packet.count >= DNSHeader.byteCount else { return .drop }
        let id = readUInt16(packet, 0), flags = readUInt16(packet, 2)
        guard flags & DNSHeader.Flag.response.rawValue == 0 else { return .drop }
        // An opcode we do not implement may give the other bits other meanings: echo only the
        // opcode, not RD or CD (genreport's `opcodeflg`).
        guard (flags >> 11) & 0xF == Opcode.query.rawValue else { return .reject(.notImp, id: id, flags: flags & 0x7800) }
        let counts = (readUInt16(packet, 4), readUInt16(packet, 6), readUInt16(packet, 8), readUInt16(packet, 10))
        guard counts.0 == 1,
              let nameLength = copyQuestionName(packet, into: nameBuffer),
              DNSHeader.byteCount + nameLength + 4 <= packet.count
        else { return .reject(.formErr, id: id, flags: flags) }
        let typeOffset = DNSHeader.byteCount + nameLength
        var view = QueryView(
            id: id, flags: flags, type: RecordType(rawValue: readUInt16(packet, typeOffset)),
            recordClass: RecordClass(rawValue: readUInt16(packet, typeOffset + 2)), nameLength: nameLength)
        switch findEDNS(packet, from: view.questionEnd, records: Int(counts.1) + Int(counts.2), additional: Int(counts.3)) {
        case .failure: return .reject(.formErr, id: id, flags: flags)
        case .success(let edns): view.edns = edns
        }
        return .query(view)
    }

    @inline(__always)
    static func readUInt16(_ packet: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(packet[offset]) << 8 | UInt16(packet[offset + 1])
    }

    /// Copies the question name lower-cased; nil if it is compressed, malformed or too long.
    private static func copyQuestionName(
        _ packet: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer
    ) -> Int? {
        var position = DNSHeader.byteCount
        var written = 0
        while position < packet.count {
            let length = Int(packet[position])
            if length == 0 {
                buffer[written] = 0
                return written + 1
            }
            // A pointer cannot appear in the first name of a message (it could only point into
            // the header), and label types 01/10 are retired.
            guard length <= DomainName.maxLabelLength, written + length + 2 <= DomainName.maxWireLength,
                  position + length < packet.count else { return nil }
            buffer[written] = UInt8(length)
            for index in 1...length {
                buffer[written + index] = DomainName.lowercase(packet[position + index])
            }
            written += length + 1
            position += length + 1
        }
        return nil
    }

    private struct Malformed: Error {}

    /// Walks answer/authority records (normally none in a query) and the additional section
    /// looking for the OPT record. A malformed record or a second OPT is FORMERR (RFC 6891 §6.1.1).
    private static func findEDNS(
        _ packet: UnsafeRawBufferPointer, from start: Int, records: Int, additional: Int
    ) -> Result<QueryView.EDNSInfo?, Malformed> {
        var position = start
        var found: QueryView.EDNSInfo? = nil
        for index in 0..<(records + additional) {
            guard let nameEnd = WireName.end(packet, from: position), nameEnd + 10 <= packet.count else {
                return .failure(Malformed())
            }
            let type = readUInt16(packet, nameEnd)
            let rdLength = Int(readUInt16(packet, nameEnd + 8))
            guard nameEnd + 10 + rdLength <= packet.count else { return .failure(Malformed()) }
            if type == RecordType.opt.rawValue {
                guard index >= records, found == nil, nameEnd == position + 1 else { return .failure(Malformed()) }
                found = QueryView.EDNSInfo(
                    udpPayloadSize: readUInt16(packet, nameEnd + 2),
                    version: packet[nameEnd + 5],
                    dnssecOK: packet[nameEnd + 6] & 0x80 != 0)
            }
            position = nameEnd + 10 + rdLength
        }
        return .success(found)
    }
}
