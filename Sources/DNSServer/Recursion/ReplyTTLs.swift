import DNSWire

/// Where the TTLs of a reply sit and how long the reply may be cached (RFC 2308), computed once
/// when a forwarded reply is stored so a cache hit only patches numbers in place.
struct ReplyTTLs {
    /// Offsets of the TTL fields of every record except OPT (whose "TTL" holds EDNS flags).
    var offsets: [Int]
    var originals: [UInt32]
    /// Seconds the reply stays fresh; nil when it must not be cached.
    var lifetime: UInt32?

    struct Limits {
        var maxTTL: UInt32
        var maxNegativeTTL: UInt32
    }

    /// The answer's closing A or AAAA RRset when it can be rotated in place: nil otherwise.
    var addressRun: AddressRun?

    init?(reply: [UInt8], limits: Limits) {
        guard let layout = try? Self.walk(reply) else { return nil }
        self.init(reply: reply, layout: layout, limits: limits)
    }

    /// From a `walk` of `reply` already made (`cappedLayout`): a miss walks its reply once.
    init(reply: [UInt8], layout: [Field], limits: Limits) {
        addressRun = AddressRun(reply, layout)
        offsets = layout.map(\.offset)
        originals = layout.map { Self.sane($0.ttl) }
        let rcode = reply[3] & 0x0F
        let truncated = reply[2] & 0x02 != 0
        let answers = layout.filter { $0.section == 0 }
        switch rcode {
        case _ where truncated:
            lifetime = nil
        case UInt8(ResponseCode.noError.rawValue) where !answers.isEmpty:
            let relevant = layout.filter { $0.section < 2 }
            lifetime = relevant.map { Self.sane($0.ttl) }.min().map { min($0, limits.maxTTL) }
        case UInt8(ResponseCode.noError.rawValue), UInt8(ResponseCode.nxDomain.rawValue):
            // Negative answers live as long as the SOA says: min(its TTL, MINIMUM) (RFC 2308 §5).
            guard let soa = layout.first(where: { $0.section == 1 && $0.type == .soa }) else { lifetime = nil; break }
            lifetime = min(Self.sane(soa.ttl), Self.sane(soa.soaMinimum ?? soa.ttl), limits.maxNegativeTTL)
        default:
            lifetime = nil  // SERVFAIL, REFUSED, …: not cached
        }
    }

    /// RFC 2181 §8: a TTL with the top bit set is taken as zero.
    static func sane(_ ttl: UInt32) -> UInt32 { ttl > UInt32(Int32.max) ? 0 : ttl }

    /// `reply` with every TTL at most `maxTTL` (and RFC 2181 §8 applied): what a forwarded
    /// answer is relayed with, so its first client sees the same bound as later cache hits.
    static func capped(_ reply: [UInt8], maxTTL: UInt32) -> [UInt8] {
        cappedLayout(reply, maxTTL: maxTTL).reply
    }

    /// `capped`, with the walk of the capped reply (nil when it cannot be walked): what the
    /// cache stores it by, without walking it again.
    static func cappedLayout(_ reply: [UInt8], maxTTL: UInt32) -> (reply: [UInt8], layout: [Field]?) {
        guard var layout = try? walk(reply) else { return (reply, nil) }
        var reply = reply
        for index in layout.indices {
            let ttl = min(sane(layout[index].ttl), maxTTL)
            guard ttl != layout[index].ttl else { continue }
            reply.withUnsafeMutableBytes { write(ttl, at: layout[index].offset, in: $0) }
            layout[index].ttl = ttl
        }
        return (reply, layout)
    }

    /// Writes a TTL field (big-endian, RFC 1035 §3.2.1).
    static func write(_ ttl: UInt32, at offset: Int, in reply: UnsafeMutableRawBufferPointer) {
        reply[offset] = UInt8(ttl >> 24)
        reply[offset + 1] = UInt8(truncatingIfNeeded: ttl >> 16)
        reply[offset + 2] = UInt8(truncatingIfNeeded: ttl >> 8)
        reply[offset + 3] = UInt8(truncatingIfNeeded: ttl)
    }

    struct Field {
        /// Where the record starts (its owner name) and where its data starts.
        var start: Int
        var dataOffset: Int
        var dataLength: Int
        var offset: Int
        var ttl: UInt32
        var type: RecordType
        var section: Int
        var soaMinimum: UInt32?
    }

    /// Walks the message with our bounds-checked reader, noting each record's TTL position.
    static func walk(_ bytes: [UInt8]) throws(DNSWireError) -> [Field] {
        var reader = WireReader(bytes: bytes, offset: 4)
        let questions = try reader.readUInt16()
        let counts = [try reader.readUInt16(), try reader.readUInt16(), try reader.readUInt16()]
        for _ in 0..<questions { _ = try reader.readQuestion() }
        var fields: [Field] = []
        for (section, count) in counts.enumerated() {
            for _ in 0..<count {
                let start = reader.offset
                _ = try reader.readName()
                let type = RecordType(rawValue: try reader.readUInt16())
                _ = try reader.readUInt16()
                let offset = reader.offset
                let ttl = try reader.readUInt32()
                let length = Int(try reader.readUInt16())
                let rdataEnd = reader.offset + length
                var minimum: UInt32? = nil
                if type == .soa, length >= 20 {
                    var tail = WireReader(bytes: bytes, offset: rdataEnd - 4)
                    minimum = try tail.readUInt32()
                }
                _ = try reader.readBytes(length)
                if type != .opt {
                    fields.append(Field(
                        start: start, dataOffset: rdataEnd - length, dataLength: length, offset: offset, ttl: ttl, type: type,
                        section: section, soaMinimum: minimum))
                }
            }
        }
        return fields
    }
}

/// The A or AAAA RRset that ends a forwarded answer section (after any CNAME chain), as fixed-
/// size records a cache hit rotates in place (issue #10: cached answers are shuffled like the
/// cluster zone's). Only when every record has the same owner bytes (a compression pointer, as
/// servers write them) and they follow one another, so the records are evenly spaced.
struct AddressRun: Sendable, Equatable {
    var firstData: Int
    var stride: Int
    var dataLength: Int
    var count: Int

    init?(_ reply: [UInt8], _ layout: [ReplyTTLs.Field]) {
        let answers = layout.prefix { $0.section == 0 }
        guard let last = answers.last, last.type == .a || last.type == .aaaa,
              last.dataLength == (last.type == .a ? 4 : 16)
        else { return nil }
        let ownerLength = last.offset - 4 - last.start  // the owner, before type and class
        let owner = reply[last.start..<last.start + ownerLength]
        var first = answers.endIndex - 1
        while first > answers.startIndex {
            let previous = answers[first - 1]
            guard previous.type == last.type, previous.dataLength == last.dataLength,
                  previous.dataOffset + previous.dataLength == answers[first].start,
                  previous.offset - 4 - previous.start == ownerLength,
                  reply[previous.start..<previous.start + ownerLength].elementsEqual(owner)
            else { break }
            first -= 1
        }
        count = answers.endIndex - first
        guard count > 1 else { return nil }
        firstData = answers[first].dataOffset
        stride = last.dataOffset - last.start + last.dataLength
        dataLength = last.dataLength
    }

    /// Rotates the run in a copy of its reply by the client's query ID, which is random
    /// (RFC 5452 §9.2), so each address comes first about equally often.
    func rotate(_ reply: UnsafeMutableRawBufferPointer, id: UInt16) {
        guard firstData + (count - 1) * stride + dataLength <= reply.count else { return }
        RecordRotation.rotateData(reply, firstData: firstData, stride: stride, dataLength: dataLength, count: count, shift: Int(id))
    }
}
