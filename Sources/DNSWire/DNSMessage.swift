/// A fully decoded message. For tests, the forwarder and tooling; the per-query path uses
/// `QueryView` and prepared answers instead.
public struct DNSMessage: Hashable, Sendable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    /// Additional records other than OPT.
    public var additionals: [ResourceRecord]
    public var edns: EDNSRecord?

    public init(
        header: DNSHeader = DNSHeader(), questions: [DNSQuestion] = [], answers: [ResourceRecord] = [],
        authorities: [ResourceRecord] = [], additionals: [ResourceRecord] = [], edns: EDNSRecord? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// Full RCODE: header bits plus the OPT record's extended bits.
    public var responseCode: ResponseCode {
        ResponseCode(rawValue: UInt16(edns?.extendedRCodeHigh ?? 0) << 4 | UInt16(header.rcodeLow))
    }

    public init(decoding bytes: [UInt8]) throws(DNSWireError) {
        var reader = WireReader(bytes: bytes)
        var header = DNSHeader(
            id: try reader.readUInt16(), flags: try reader.readUInt16(),
            questionCount: try reader.readUInt16(), answerCount: try reader.readUInt16(),
            authorityCount: try reader.readUInt16(), additionalCount: try reader.readUInt16())
        // Counts come from the packet: never reserve from them, each element must be read.
        var questions: [DNSQuestion] = []
        for _ in 0..<header.questionCount { questions.append(try reader.readQuestion()) }
        var sections: [[ResourceRecord]] = [[], [], []]
        for (index, count) in [header.answerCount, header.authorityCount, header.additionalCount].enumerated() {
            for _ in 0..<count { sections[index].append(try reader.readRecord()) }
        }
        guard reader.remaining == 0 else { throw .trailingBytes(at: reader.offset) }
        var edns: EDNSRecord? = nil
        var additionals: [ResourceRecord] = []
        for record in sections[2] {
            if record.type == .opt, edns == nil, record.name.isRoot {
                edns = EDNSRecord(record: record)
            } else {
                additionals.append(record)
            }
        }
        header.additionalCount = UInt16(additionals.count + (edns == nil ? 0 : 1))
        self.init(
            header: header, questions: questions, answers: sections[0], authorities: sections[1],
            additionals: additionals, edns: edns)
    }

    /// Wire form with compression; the header counts are recomputed from the sections.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.writeUInt16(header.id)
        writer.writeUInt16(header.flags)
        writer.writeUInt16(UInt16(questions.count))
        writer.writeUInt16(UInt16(answers.count))
        writer.writeUInt16(UInt16(authorities.count))
        writer.writeUInt16(UInt16(additionals.count + (edns == nil ? 0 : 1)))
        for question in questions { writer.writeQuestion(question) }
        for record in answers + authorities + additionals { writer.writeRecord(record) }
        if let edns { writer.writeRecord(edns.record) }
        return writer.bytes
    }
}
