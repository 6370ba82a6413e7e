/// Builds a DNS message with name compression (RFC 1035 §4.1.4). Used wherever speed does not
/// matter: preparing snapshot answers, tests, forwarding. The per-query path copies prepared
/// bytes instead.
public struct WireWriter {
    public private(set) var bytes: [UInt8]
    /// Lower-cased wire form of every name suffix written so far → its offset.
    private var suffixOffsets: [[UInt8]: Int] = [:]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Continues a message whose first `prefix` bytes are already fixed (e.g. header +
    /// question): names written later may point into it after `registerName(at:)`.
    public init(prefix: [UInt8]) {
        bytes = prefix
    }

    /// Off for bytes that will be placed at an offset not known yet (e.g. a SOA template):
    /// names are then written in full and never become pointer targets.
    public var compresses = true

    public var count: Int { bytes.count }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeUInt32(_ value: UInt32) {
        writeUInt16(UInt16(value >> 16))
        writeUInt16(UInt16(truncatingIfNeeded: value))
    }

    public mutating func writeBytes(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    public mutating func setUInt16(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Makes the uncompressed name already present at `offset` available as a pointer target.
    public mutating func registerName(_ name: DomainName, at offset: Int) {
        var position = offset
        var wire = name.lowercasedWire[...]
        while wire.count > 1, position < 0x4000 {
            suffixOffsets[Array(wire)] = suffixOffsets[Array(wire)] ?? position
            let labelLength = Int(wire.first!) + 1
            position += labelLength
            wire = wire.dropFirst(labelLength)
        }
    }

    /// Writes `name`, replacing its longest already-written suffix with a pointer when
    /// `compress` is set. Suffixes written here become targets either way.
    public mutating func writeName(_ name: DomainName, compress: Bool = true) {
        guard compresses else {
            bytes.append(contentsOf: name.wire)
            return
        }
        let lower = name.lowercasedWire
        var index = 0
        while lower[index] != 0 {
            let suffix = Array(lower[index...])
            if compress, let target = suffixOffsets[suffix] {
                writeUInt16(0xC000 | UInt16(target))
                return
            }
            if bytes.count < 0x4000 { suffixOffsets[suffix] = bytes.count }
            let length = Int(lower[index])
            bytes.append(contentsOf: name.wire[index...index + length])  // keep original spelling
            index += 1 + length
        }
        bytes.append(0)
    }

    public mutating func writeQuestion(_ question: DNSQuestion) {
        writeName(question.name)
        writeUInt16(question.type.rawValue)
        writeUInt16(question.recordClass.rawValue)
    }

    public mutating func writeRecord(_ record: ResourceRecord) {
        writeName(record.name)
        writeUInt16(record.type.rawValue)
        writeUInt16(record.recordClass.rawValue)
        writeUInt32(record.ttl)
        let lengthOffset = bytes.count
        writeUInt16(0)
        writeRData(record.data)
        setUInt16(UInt16(bytes.count - lengthOffset - 2), at: lengthOffset)
    }

    public mutating func writeRData(_ data: RData) {
        switch data {
        case .a(let address), .aaaa(let address): writeBytes(address.bytes)
        case .ns(let name), .cname(let name), .ptr(let name): writeName(name)
        case .mx(let preference, let exchange):
            writeUInt16(preference)
            writeName(exchange)
        case .soa(let soa):
            writeName(soa.mname)
            writeName(soa.rname)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writeUInt32(value) }
        case .srv(let srv):
            writeUInt16(srv.priority)
            writeUInt16(srv.weight)
            writeUInt16(srv.port)
            // RFC 2782: the SRV target is never compressed (receivers need not decompress it).
            writeName(srv.target, compress: false)
        case .txt(let strings):
            for string in strings {
                writeUInt8(UInt8(min(string.count, 255)))
                writeBytes(string.prefix(255))
            }
        case .hinfo(let cpu, let os):
            for string in [cpu, os] {
                writeUInt8(UInt8(min(string.count, 255)))
                writeBytes(string.prefix(255))
            }
        case .unknown(let raw): writeBytes(raw)
        }
    }
}
