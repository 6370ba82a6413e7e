import ClusterRegistry
import DNSWire

/// Zone transfers (AXFR, RFC 5936) of the zones we serve, over TCP, to the networks of
/// `--transfer-to`. Everyone else, and every transfer asked over UDP (RFC 5936 §4.2), gets the
/// responder's REFUSED as before. IXFR gets the whole zone in AXFR form, which RFC 1995 §4
/// allows a server without the history of changes to send, or the SOA alone when the client
/// already has the current serial.
struct ZoneTransfer: Sendable {
    let allowed: AccessControl

    /// Bytes of records after which a message is closed and the next begun. A message may hold
    /// 65,535 bytes (RFC 1035 §4.2.2); smaller ones let the client parse while we write, as
    /// BIND and Knot do.
    static let messageBudget = 16_384

    /// A transfer this client may have, as parsed from its request.
    struct Request: Sendable {
        /// Lower-cased wire form of the zone asked for.
        var apex: [UInt8]
        /// The request's question section, echoed in the first message.
        var question: [UInt8]
        var incremental: Bool
        /// IXFR: the serial the client holds (RFC 1995 §3).
        var clientSerial: UInt32?
        fileprivate var header: MessageHeader
    }

    /// Whether `packet` may ask for a transfer: a cheap look at its question type, so that
    /// other TCP queries pay one scan of the name.
    static func mayAskForTransfer(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard let type = WireName.firstQuestion(packet)?.type else { return false }
        return type == RecordType.axfr.rawValue || type == RecordType.ixfr.rawValue
    }

    /// The transfer `request` asks for, or nil when it asks none this client may have: the
    /// normal path then answers it (REFUSED, FORMERR, …).
    func accept(_ request: [UInt8], client: IPAddress?) -> Request? {
        var nameBuffer = [UInt8](repeating: 0, count: DomainName.maxWireLength + 1)
        let parsed = request.withUnsafeBytes { packet in
            nameBuffer.withUnsafeMutableBytes { QueryParser.parse(packet, nameBuffer: $0) }
        }
        guard case .query(let query) = parsed, query.type == .axfr || query.type == .ixfr, query.recordClass == .in,
              query.edns.map({ $0.version == 0 }) ?? true, let client, allowed.allows(client)
        else { return nil }
        return Request(
            apex: Array(nameBuffer.prefix(query.nameLength)), question: Array(request[DNSHeader.byteCount..<query.questionEnd]),
            incremental: query.type == .ixfr, clientSerial: query.type == .ixfr ? Self.clientSerial(request, query) : nil,
            header: MessageHeader(id: query.id, recursionDesired: query.recursionDesired, edns: query.edns != nil))
    }

    /// The messages answering `request` from `snapshot`, each to be sent with its length prefix.
    /// Every record comes from the one snapshot, so the transfer is consistent and its SOA
    /// serial is the one SOA queries get. Allocates the whole zone: run it off the event loop.
    static func messages(answering request: Request, from snapshot: RegistrySnapshot) -> [[UInt8]] {
        let header = request.header
        // The reverse and alias zones hold single names of ours, not the zone (the rest is
        // forwarded).
        guard let zone = snapshot.zoneIndex(apex: request.apex), snapshot.zones[zone].kind.ownsEveryName else {
            return [header.error(.notAuth, question: request.question)]
        }
        if [.cluster, .multicluster].contains(snapshot.zones[zone].kind), !snapshot.clusterSynced {
            // Half a cluster would be worse than none: the client retries later.
            return [header.error(.servFail, question: request.question)]
        }
        var records = snapshot.records(ofZone: zone)
        guard let soaIndex = records.firstIndex(where: { $0.type == .soa }) else {
            return [header.error(.servFail, question: request.question)]
        }
        let soa = records.remove(at: soaIndex)
        if request.incremental, case .soa(let ours) = soa.data, request.clientSerial == ours.serial {
            return messages(header, question: request.question, records: [soa])  // up to date (RFC 1995 §4)
        }
        // The SOA opens and closes the transfer (RFC 5936 §2.2).
        return messages(header, question: request.question, records: [soa] + records + [soa])
    }

    /// The serial of the SOA an IXFR request carries in its authority section (RFC 1995 §3).
    private static func clientSerial(_ request: [UInt8], _ query: QueryView) -> UInt32? {
        guard request.count >= DNSHeader.byteCount, request[8] != 0 || request[9] != 0 else { return nil }
        var reader = WireReader(bytes: request, offset: query.questionEnd)
        let answers = Int(request[6]) << 8 | Int(request[7])
        for _ in 0..<answers { guard (try? reader.readRecord()) != nil else { return nil } }
        guard let record = try? reader.readRecord(), case .soa(let soa) = record.data else { return nil }
        return soa.serial
    }

    /// Records split over messages of about `messageBudget` bytes; the question goes in the
    /// first only (RFC 5936 §2.2.1 lets later ones omit it).
    private static func messages(_ header: MessageHeader, question: [UInt8], records: [ResourceRecord]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var remaining = records[...]
        repeat {
            let withQuestion = messages.isEmpty
            var writer = WireWriter(capacity: messageBudget + 512)
            header.write(&writer, questions: withQuestion ? 1 : 0)
            if withQuestion {
                writer.writeBytes(question)
                if let name = try? DomainName(wire: Array(question.dropLast(4))) { writer.registerName(name, at: DNSHeader.byteCount) }
            }
            var count: UInt16 = 0
            // A message stays within 65,535 bytes with its OPT (11 bytes): a record is at most
            // `SnapshotCompiler.sectionByteLimit` bytes, since it came from a served answer.
            while let record = remaining.first, count == 0
                || (writer.bytes.count < messageBudget && writer.bytes.count + Self.largestSize(of: record) <= 65_535 - 11) {
                writer.writeRecord(record)
                remaining.removeFirst()
                count += 1
            }
            writer.setUInt16(count, at: 6)
            header.writeOPT(&writer)
            messages.append(writer.bytes)
        } while !remaining.isEmpty
        return messages
    }

    /// An upper bound of the bytes `record` takes uncompressed.
    private static func largestSize(of record: ResourceRecord) -> Int {
        let data: Int
        switch record.data {
        case .unknown(let bytes): data = bytes.count
        case .txt(let strings): data = strings.reduce(0) { $0 + 1 + $1.count }
        case .hinfo(let cpu, let os): data = cpu.count + os.count + 2
        default: data = 2 * DomainName.maxWireLength + 20  // SOA: two names and five numbers
        }
        return record.name.wire.count + 10 + data
    }

    /// The header fields every message of one transfer shares (RFC 5936 §2.2.1).
    fileprivate struct MessageHeader: Sendable {
        var id: UInt16
        var recursionDesired: Bool
        /// The request had an OPT record, so every reply carries one (RFC 6891 §6.1.1).
        var edns: Bool

        func write(_ writer: inout WireWriter, questions: UInt16, rcode: ResponseCode = .noError) {
            var flags = DNSHeader.Flag.response.rawValue | DNSHeader.Flag.authoritative.rawValue | UInt16(rcode.rawValue & 0xF)
            if recursionDesired { flags |= DNSHeader.Flag.recursionDesired.rawValue }
            writer.writeUInt16(id)
            writer.writeUInt16(flags)
            writer.writeUInt16(questions)
            writer.writeUInt16(0)
            writer.writeUInt16(0)
            writer.writeUInt16(0)
        }

        func writeOPT(_ writer: inout WireWriter) {
            guard edns else { return }
            // Root owner, type OPT, our UDP size, no extended rcode, version 0, no flags.
            writer.writeBytes([0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
            writer.setUInt16(1, at: 10)
        }

        func error(_ rcode: ResponseCode, question: [UInt8]) -> [UInt8] {
            var writer = WireWriter()
            write(&writer, questions: 1, rcode: rcode)
            writer.writeBytes(question)
            writeOPT(&writer)
            return writer.bytes
        }
    }
}
