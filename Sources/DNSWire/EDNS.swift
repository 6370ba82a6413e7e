/// The OPT pseudo-record's fields (RFC 6891 §6.1.2), kept out of `ResourceRecord` because its
/// class and TTL fields mean something else.
public struct EDNSRecord: Hashable, Sendable {
    public var udpPayloadSize: UInt16
    public var extendedRCodeHigh: UInt8
    public var version: UInt8
    public var dnssecOK: Bool
    public var options: [UInt8]

    public init(udpPayloadSize: UInt16, extendedRCodeHigh: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [UInt8] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCodeHigh = extendedRCodeHigh
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    init(record: ResourceRecord) {
        let options: [UInt8]
        if case .unknown(let bytes) = record.data { options = bytes } else { options = [] }
        self.init(
            udpPayloadSize: record.recordClass.rawValue,
            extendedRCodeHigh: UInt8(record.ttl >> 24),
            version: UInt8((record.ttl >> 16) & 0xFF),
            dnssecOK: record.ttl & 0x8000 != 0,
            options: options
        )
    }

    var record: ResourceRecord {
        let ttl = UInt32(extendedRCodeHigh) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
        return ResourceRecord(
            name: .root, type: .opt, recordClass: RecordClass(rawValue: udpPayloadSize), ttl: ttl,
            data: .unknown(options))
    }
}
