/// Bounds-checked reading of a whole DNS message held in an array. Every read either succeeds
/// or throws; nothing is trusted from the packet.
public struct WireReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8() throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16() throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func readUInt32() throws(DNSWireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated(at: offset) }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func readBytes(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated(at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// The most compression pointers followed in one name.
    public static let maxPointerJumps = 128

    /// Reads a possibly compressed name (RFC 1035 §4.1.4). Pointers must point strictly
    /// backwards, which makes loops impossible; the expanded name must fit 255 bytes.
    public mutating func readName() throws(DNSWireError) -> DomainName {
        var wire: [UInt8] = []
        var position = offset
        var resumeAt: Int? = nil
        var lowestJumpOrigin = position
        // A name has at most 127 labels, so more pointers than that only chain to each
        // other: a 64 KB message could make one name cost 32,000 hops (issue #11 item 9).
        var jumps = 0
        while true {
            guard position < bytes.count else { throw .truncated(at: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    wire.append(0)
                    offset = resumeAt ?? position + 1
                    guard wire.count <= DomainName.maxWireLength else { throw .nameTooLong(at: position) }
                    return DomainName(uncheckedWire: wire)
                }
                let end = position + 1 + Int(length)
                guard end <= bytes.count else { throw .truncated(at: position) }
                wire.append(contentsOf: bytes[position..<end])
                guard wire.count < DomainName.maxWireLength else { throw .nameTooLong(at: position) }
                position = end
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated(at: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < lowestJumpOrigin, jumps < Self.maxPointerJumps else { throw .pointerLoop(at: position) }
                jumps += 1
                if resumeAt == nil { resumeAt = position + 2 }
                lowestJumpOrigin = target
                position = target
            default:
                throw .badLabelType(at: position)
            }
        }
    }

    public mutating func readQuestion() throws(DNSWireError) -> DNSQuestion {
        let name = try readName()
        let type = RecordType(rawValue: try readUInt16())
        let recordClass = RecordClass(rawValue: try readUInt16())
        return DNSQuestion(name: name, type: type, recordClass: recordClass)
    }

    public mutating func readRecord() throws(DNSWireError) -> ResourceRecord {
        let name = try readName()
        let type = RecordType(rawValue: try readUInt16())
        let recordClass = RecordClass(rawValue: try readUInt16())
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        let start = offset
        guard start + length <= bytes.count else { throw .truncated(at: start) }
        let data = try readRData(type: type, length: length)
        guard offset == start + length else { throw .badRData(type: type, at: start) }
        return ResourceRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    private mutating func readRData(type: RecordType, length: Int) throws(DNSWireError) -> RData {
        let start = offset
        switch type {
        case .a, .aaaa:
            guard length == (type == .a ? 4 : 16), let address = IPAddress(bytes: try readBytes(length)) else {
                throw .badRData(type: type, at: start)
            }
            return type == .a ? .a(address) : .aaaa(address)
        case .ns: return .ns(try readName())
        case .cname: return .cname(try readName())
        case .ptr: return .ptr(try readName())
        case .mx: return .mx(preference: try readUInt16(), exchange: try readName())
        case .soa:
            return .soa(SOAData(
                mname: try readName(), rname: try readName(), serial: try readUInt32(),
                refresh: try readUInt32(), retry: try readUInt32(), expire: try readUInt32(),
                minimum: try readUInt32()))
        case .srv:
            return .srv(SRVData(
                priority: try readUInt16(), weight: try readUInt16(), port: try readUInt16(),
                target: try readName()))
        case .txt:
            var strings: [[UInt8]] = []
            while offset < start + length {
                strings.append(try readBytes(Int(try readUInt8())))
            }
            return .txt(strings)
        case .hinfo:
            let cpu = try readBytes(Int(try readUInt8()))
            return .hinfo(cpu: cpu, os: try readBytes(Int(try readUInt8())))
        default:
            return .unknown(try readBytes(length))
        }
    }
}
