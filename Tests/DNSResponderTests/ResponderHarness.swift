import ClusterRegistry
import DNSResponder
import DNSTestSupport
import DNSWire
import XCTest

/// One question as a client sends it.
struct TestQuery {
    var name: String
    var type: RecordType
    var recordClass: RecordClass = .in
    var edns: EDNSRecord? = nil
    /// Header flags of the request; dig sets RD.
    var flags: UInt16 = DNSHeader.Flag.recursionDesired.rawValue
    var id: UInt16 = 0x1234

    var question: DNSQuestion { DNSQuestion(name: TestCluster.name(name), type: type, recordClass: recordClass) }

    var bytes: [UInt8] {
        DNSMessage(header: DNSHeader(id: id, flags: flags), questions: [question], edns: edns).encoded()
    }
}

/// What the responder made of one request: its outcome and the bytes it wrote (for `.reply`
/// and `.chase`; empty otherwise).
struct TestExchange {
    var outcome: ResponderOutcome
    var reply: [UInt8]
}

enum Harness {
    static func exchange(
        _ packet: [UInt8], snapshot: RegistrySnapshot = TestCluster.standard, transport: Transport = .udp,
        options: ResponderOptions = ResponderOptions()
    ) -> TestExchange {
        let scratch = ResponseScratch()
        let outcome = packet.withUnsafeBytes {
            Responder(options: options).respond(to: $0, snapshot: snapshot, transport: transport, scratch: scratch)
        }
        switch outcome {
        case .reply(let length, _), .chase(let length, _, _, _):
            return TestExchange(outcome: outcome, reply: scratch.bytes(length))
        case .drop, .forward:
            return TestExchange(outcome: outcome, reply: [])
        }
    }

    static func exchange(
        _ query: TestQuery, snapshot: RegistrySnapshot = TestCluster.standard, transport: Transport = .udp,
        options: ResponderOptions = ResponderOptions()
    ) -> TestExchange {
        exchange(query.bytes, snapshot: snapshot, transport: transport, options: options)
    }

    /// ldns's rendering with tabs turned into single spaces: `owner ttl class type rdata`.
    static func ldnsLines(_ bytes: [UInt8], _ section: LDNSOracle.Section) throws -> [String] {
        try LDNSOracle.records(bytes, section: section).map { $0.replacingOccurrences(of: "\t", with: " ") }
    }

    /// Our own decoder's records, rendered through ldns one by one: compared with what ldns
    /// decodes from the whole packet, this catches a decoder and an encoder that agree on a bug.
    static func ownLines(_ records: [ResourceRecord]) -> [String] {
        records.map { RecordPresentation.line($0).replacingOccurrences(of: "\t", with: " ") }
    }
}

/// One row of a CoreDNS-style table: `(qname, qtype[, transport, EDNS]) → rcode, sections, flags`.
/// Record lines are ldns presentation with single spaces (`name. 5 IN A 10.0.0.1`); an RRset is a
/// set, so sections compare without order.
struct AnswerCase {
    var query: TestQuery
    var transport: Transport
    var rcode: String
    var answer: [String]
    var authority: [String]
    var additional: [String]
    var flags: Set<String>
    var line: UInt

    init(
        _ qname: String, _ qtype: RecordType, transport: Transport = .udp, edns: EDNSRecord? = nil,
        rcode: String = "NOERROR", answer: [String] = [], authority: [String] = [], additional: [String] = [],
        flags: Set<String> = ["qr", "aa", "rd"], line: UInt = #line
    ) {
        self.query = TestQuery(name: qname, type: qtype, edns: edns)
        self.transport = transport
        self.rcode = rcode
        self.answer = answer
        self.authority = authority
        self.additional = additional
        self.flags = flags
        self.line = line
    }

    /// NOERROR, empty answer, the zone's SOA in authority (RFC 2308 §2.2).
    static func nodata(_ qname: String, _ qtype: RecordType, soa: String = Zone.soa, line: UInt = #line) -> AnswerCase {
        AnswerCase(qname, qtype, authority: [soa], line: line)
    }

    /// NXDOMAIN, empty answer, the zone's SOA in authority (RFC 2308 §2.1).
    static func nxdomain(_ qname: String, _ qtype: RecordType = .a, soa: String = Zone.soa, line: UInt = #line) -> AnswerCase {
        AnswerCase(qname, qtype, rcode: "NXDOMAIN", authority: [soa], line: line)
    }
}

/// Text of records that recur in the tables.
enum Zone {
    static let soa = soaLine(apex: "cluster.local.", ttl: 5, minimum: 5)
    static let reverseSOA = soaLine(apex: "in-addr.arpa.", ttl: 5, minimum: 5)
    static let staticSOA =
        "example.internal. 300 IN SOA ns1.example.internal. hostmaster.example.internal. 2024060101 3600 900 604800 300"

    static func soaLine(apex: String, domain: String = "cluster.local.", ttl: UInt32, minimum: UInt32) -> String {
        "\(apex) \(ttl) IN SOA ns.dns.\(domain) hostmaster.\(domain) \(TestCluster.serial) 7200 1800 86400 \(minimum)"
    }

    /// `svc.testns.svc.cluster.local.`
    static func svc(_ name: String, _ namespace: String = "testns") -> String {
        "\(name).\(namespace).svc.cluster.local."
    }
}

extension XCTestCase {
    /// Runs every case and checks rcode, flags and sections with ldns, then that our own decoder
    /// reads the same packet: same records, the question echoed byte for byte, OPT iff asked.
    func check(
        _ cases: [AnswerCase], snapshot: RegistrySnapshot = TestCluster.standard,
        options: ResponderOptions = ResponderOptions(), file: StaticString = #filePath
    ) {
        for testCase in cases { check(testCase, snapshot: snapshot, options: options, file: file) }
    }

    func check(
        _ testCase: AnswerCase, snapshot: RegistrySnapshot = TestCluster.standard,
        options: ResponderOptions = ResponderOptions(), file: StaticString = #filePath
    ) {
        let query = testCase.query
        let label = "\(query.name) \(query.type) \(testCase.transport)\(query.edns == nil ? "" : " +edns")"
        let line = testCase.line
        let exchange = Harness.exchange(query, snapshot: snapshot, transport: testCase.transport, options: options)
        guard case .reply(let length, let rcode) = exchange.outcome else {
            return XCTFail("\(label): expected a reply, got \(exchange.outcome)", file: file, line: line)
        }
        XCTAssertEqual(length, exchange.reply.count, file: file, line: line)
        XCTAssertEqual(rcode.description, testCase.rcode, "\(label): outcome rcode", file: file, line: line)
        verifyPacket(exchange.reply, query: query, label: label, file: file, line: line)
        do {
            let bytes = exchange.reply
            let ldnsRcode = try LDNSOracle.rcode(bytes), ldnsFlags = try LDNSOracle.flags(bytes)
            XCTAssertEqual(ldnsRcode, testCase.rcode, "\(label): rcode", file: file, line: line)
            XCTAssertEqual(ldnsFlags, testCase.flags, "\(label): flags", file: file, line: line)
            for (section, expected) in [(LDNSOracle.Section.answer, testCase.answer), (.authority, testCase.authority),
                                        (.additional, testCase.additional)] {
                let lines = try Harness.ldnsLines(bytes, section)
                XCTAssertEqual(lines.sorted(), expected.sorted(), "\(label): \(section) section", file: file, line: line)
            }
        } catch {
            XCTFail("\(label): \(error)", file: file, line: line)
        }
    }

    /// Checks that hold for every reply: ldns and our decoder both accept it and agree, the ID
    /// and question are echoed exactly, QR is set, and OPT is present iff the query had one.
    func verifyPacket(
        _ bytes: [UInt8], query: TestQuery, label: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let request = query.bytes
        let questionEnd = 12 + TestCluster.name(query.name).wire.count + 4
        guard bytes.count >= questionEnd else {
            return XCTFail("\(label): reply of \(bytes.count) bytes has no question", file: file, line: line)
        }
        XCTAssertEqual(Array(bytes[0..<2]), Array(request[0..<2]), "\(label): ID", file: file, line: line)
        XCTAssertEqual(Array(bytes[4..<6]), [0, 1], "\(label): QDCOUNT", file: file, line: line)
        XCTAssertEqual(Array(bytes[12..<questionEnd]), Array(request[12..<questionEnd]),
                       "\(label): question must be echoed byte for byte", file: file, line: line)
        do {
            _ = try LDNSOracle.packetText(bytes)
            let message = try DNSMessage(decoding: bytes)
            XCTAssertTrue(message.header[.response], "\(label): QR", file: file, line: line)
            XCTAssertEqual(message.edns != nil, query.edns != nil, "\(label): OPT iff the query had one",
                           file: file, line: line)
            if let edns = message.edns, let asked = query.edns {
                XCTAssertEqual(edns.version, 0, "\(label): OPT version", file: file, line: line)
                XCTAssertEqual(edns.dnssecOK, asked.dnssecOK, "\(label): DO copied (RFC 3225)", file: file, line: line)
            }
            XCTAssertEqual(Harness.ownLines(message.answers), try Harness.ldnsLines(bytes, .answer),
                           "\(label): our decoder vs ldns, answer", file: file, line: line)
            XCTAssertEqual(Harness.ownLines(message.authorities), try Harness.ldnsLines(bytes, .authority),
                           "\(label): our decoder vs ldns, authority", file: file, line: line)
            XCTAssertEqual(Harness.ownLines(message.additionals), try Harness.ldnsLines(bytes, .additional),
                           "\(label): our decoder vs ldns, additional", file: file, line: line)
        } catch {
            XCTFail("\(label): reply not decodable: \(error)", file: file, line: line)
        }
    }
}
