/// One question (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable {
    public var name: DomainName
    public var type: RecordType
    public var recordClass: RecordClass

    public init(name: DomainName, type: RecordType, recordClass: RecordClass = .in) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

public struct SOAData: Hashable, Sendable {
    public var mname: DomainName
    public var rname: DomainName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(
        mname: DomainName, rname: DomainName, serial: UInt32, refresh: UInt32, retry: UInt32,
        expire: UInt32, minimum: UInt32
    ) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

public struct SRVData: Hashable, Sendable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DomainName

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DomainName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// Record data for the types we build or inspect; everything else stays raw bytes.
public enum RData: Hashable, Sendable {
    case a(IPAddress)
    case aaaa(IPAddress)
    case ns(DomainName)
    case cname(DomainName)
    case ptr(DomainName)
    case soa(SOAData)
    case mx(preference: UInt16, exchange: DomainName)
    /// Character-strings, each at most 255 bytes.
    case txt([[UInt8]])
    case hinfo(cpu: [UInt8], os: [UInt8])
    case srv(SRVData)
    /// Raw rdata of any other type (and OPT, whose options we do not interpret here).
    case unknown([UInt8])
}

public struct ResourceRecord: Hashable, Sendable {
    public var name: DomainName
    public var type: RecordType
    public var recordClass: RecordClass
    public var ttl: UInt32
    public var data: RData

    public init(name: DomainName, type: RecordType, recordClass: RecordClass = .in, ttl: UInt32, data: RData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    /// Convenience for the common case where the type follows from the data.
    public init(name: DomainName, ttl: UInt32, data: RData) {
        self.init(name: name, type: data.impliedType ?? RecordType(rawValue: 0), ttl: ttl, data: data)
    }
}

extension RData {
    /// The record type this data belongs to; nil for `.unknown`.
    public var impliedType: RecordType? {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .ns: return .ns
        case .cname: return .cname
        case .ptr: return .ptr
        case .soa: return .soa
        case .mx: return .mx
        case .txt: return .txt
        case .hinfo: return .hinfo
        case .srv: return .srv
        case .unknown: return nil
        }
    }
}
