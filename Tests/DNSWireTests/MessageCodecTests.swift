import DNSTestSupport
import DNSWire
import XCTest

/// Byte-literal tests: the expected bytes are written out by hand from RFC 1035 §4.1,
/// RFC 2782 and RFC 6891, never produced by the encoder under test.
final class MessageCodecTests: XCTestCase {
    // MARK: Encoding

    func testEncodesQueryExactly() {
        let query = DNSMessage(
            header: DNSHeader(id: 0xABCD, flags: 0x0100),
            questions: [DNSQuestion(name: dn("example.com"), type: .a)])
        let expected: [UInt8] = [
            0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x07, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x03, 0x63, 0x6F, 0x6D, 0x00,
            0x00, 0x01, 0x00, 0x01,
        ]
        XCTAssertEqual(query.encoded(), expected)
    }

    /// www.example.com A, answered with two A records; the second owner shares only a suffix.
    private let aResponseBytes: [UInt8] = [
        0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        // 12: question www.example.com. A IN ("example" at 16 = 0x10)
        0x03, 0x57, 0x57, 0x57, 0x07, 0x45, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x03, 0x63, 0x6F, 0x6D, 0x00,
        0x00, 0x01, 0x00, 0x01,
        // answer: C0 0C A IN 3600 192.0.2.1
        0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x04, 0xC0, 0x00, 0x02, 0x01,
        // answer: mail + C0 10 A IN 60 192.0.2.2
        0x04, 0x6D, 0x61, 0x69, 0x6C, 0xC0, 0x10,
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3C, 0x00, 0x04, 0xC0, 0x00, 0x02, 0x02,
    ]

    private var aResponse: DNSMessage {
        DNSMessage(
            header: DNSHeader(id: 0x1234, flags: 0x8580),
            questions: [DNSQuestion(name: dn("WWW.Example.com"), type: .a)],
            answers: [
                ResourceRecord(name: dn("www.example.com"), ttl: 3600, data: .a(address("192.0.2.1"))),
                ResourceRecord(name: dn("mail.example.com"), ttl: 60, data: .a(address("192.0.2.2"))),
            ])
    }

    func testEncodesAnswerWithCompressionPointers() {
        XCTAssertEqual(aResponse.encoded(), aResponseBytes)
    }

    func testDecodesAnswerAndKeepsSpellingThroughPointers() throws {
        let decoded = try DNSMessage(decoding: aResponseBytes)
        XCTAssertEqual(decoded, aResponse.withCounts)
        XCTAssertEqual(decoded.header.answerCount, 2)
        // The answer owner is a pointer to the question, so it carries the question's spelling.
        XCTAssertEqual(decoded.answers[0].name.wire, [3] + ascii("WWW") + [7] + ascii("Example") + [3] + ascii("com") + [0])
        XCTAssertEqual(decoded.answers[1].name.wire, [4] + ascii("mail") + [7] + ascii("Example") + [3] + ascii("com") + [0])
        XCTAssertEqual(decoded.edns, nil)
    }

    func testSRVTargetIsNeverCompressed() throws {
        let target = dn("web.svc")
        let message = DNSMessage(
            header: DNSHeader(id: 7, flags: 0x8400),
            questions: [DNSQuestion(name: dn("_http._tcp.web.svc"), type: .srv)],
            answers: [ResourceRecord(
                name: dn("_http._tcp.web.svc"), ttl: 30,
                data: .srv(SRVData(priority: 0, weight: 100, port: 8080, target: target)))],
            additionals: [ResourceRecord(name: target, ttl: 30, data: .a(address("10.0.0.1")))])
        let bytes = message.encoded()
        let expectedPrefix: [UInt8] = headerBytes(id: 7, flags: 0x8400, qd: 1, an: 1, ar: 1)
            // 12: _http 18: _tcp 23: web 27: svc
            + [5] + ascii("_http") + [4] + ascii("_tcp") + [3] + ascii("web") + [3] + ascii("svc") + [0]
            + [0x00, 0x21, 0x00, 0x01]
            // 36: owner C0 0C, SRV IN TTL 30, RDLENGTH 15
            + [0xC0, 0x0C, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1E, 0x00, 0x0F]
            // 48: priority 0, weight 100, port 8080, then the target in full although
            // "web.svc" already sits at offset 23 (RFC 2782: no compression)
            + [0x00, 0x00, 0x00, 0x64, 0x1F, 0x90] + [3] + ascii("web") + [3] + ascii("svc") + [0]
        XCTAssertEqual(Array(bytes.prefix(expectedPrefix.count)), expectedPrefix)
        // The additional owner may point at either copy of web.svc (offset 23 or 54).
        let additional = Array(bytes.dropFirst(expectedPrefix.count))
        XCTAssertEqual(additional.count, 2 + 10 + 4)
        XCTAssertTrue([[0xC0, 23], [0xC0, 54]].contains(Array(additional.prefix(2))), Hex.format(additional))
        XCTAssertEqual(Array(additional.dropFirst(2)), [0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1E, 0x00, 0x04, 10, 0, 0, 1])
        XCTAssertEqual(try DNSMessage(decoding: bytes), message.withCounts)
    }

    func testSOANamesAreCompressed() throws {
        let message = DNSMessage(
            header: DNSHeader(id: 0xBEEF, flags: 0x8583),
            questions: [DNSQuestion(name: dn("nope.example.com"), type: .a)],
            authorities: [ResourceRecord(
                name: dn("example.com"), ttl: 3600,
                data: .soa(SOAData(
                    mname: dn("ns1.example.com"), rname: dn("hostmaster.example.com"),
                    serial: 2_024_010_101, refresh: 7200, retry: 3600, expire: 1_209_600, minimum: 300)))])
        let expected: [UInt8] = [0xBE, 0xEF, 0x85, 0x83, 0, 1, 0, 0, 0, 1, 0, 0]
            // 12: nope 17: example 25: com
            + [4] + ascii("nope") + [7] + ascii("example") + [3] + ascii("com") + [0] + [0, 1, 0, 1]
            // 34: owner C0 11, SOA IN 3600, RDLENGTH 39
            + [0xC0, 0x11, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x27]
            + [3] + ascii("ns1") + [0xC0, 0x11]
            + [10] + ascii("hostmaster") + [0xC0, 0x11]
            + [0x78, 0xA3, 0xF1, 0x75, 0x00, 0x00, 0x1C, 0x20, 0x00, 0x00, 0x0E, 0x10]
            + [0x00, 0x12, 0x75, 0x00, 0x00, 0x00, 0x01, 0x2C]
        XCTAssertEqual(message.encoded(), expected)
        let decoded = try DNSMessage(decoding: expected)
        XCTAssertEqual(decoded, message.withCounts)
        XCTAssertEqual(decoded.responseCode, .nxDomain)
    }

    func testTXTCharacterStrings() throws {
        let message = DNSMessage(
            header: DNSHeader(id: 1, flags: 0x8400),
            answers: [ResourceRecord(name: dn("t"), ttl: 5, data: .txt([ascii("v=1"), [], ascii("a b")]))])
        let expected = headerBytes(id: 1, flags: 0x8400, an: 1) + wire("t")
            + [0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x09]
            + [3] + ascii("v=1") + [0] + [3] + ascii("a b")
        XCTAssertEqual(message.encoded(), expected)
        XCTAssertEqual(try DNSMessage(decoding: expected), message.withCounts)
    }

    func testOverlongTXTStringStillEncodesValidLengthBytes() throws {
        let message = DNSMessage(answers: [ResourceRecord(name: dn("t"), ttl: 5, data: .txt([[UInt8](repeating: 0x61, count: 300)]))])
        let decoded = try DNSMessage(decoding: message.encoded())
        guard case .txt(let strings) = decoded.answers.first?.data else { return XCTFail("no TXT") }
        XCTAssertEqual(strings.map(\.count), [255], "a character-string holds at most 255 bytes")
    }

    func testOPTRecordLayout() throws {
        let message = DNSMessage(
            header: DNSHeader(id: 2, flags: 0x0100),
            questions: [DNSQuestion(name: .root, type: .ns)],
            edns: EDNSRecord(udpPayloadSize: 4096, dnssecOK: true))
        let expected = headerBytes(id: 2, flags: 0x0100, qd: 1, ar: 1) + [0, 0x00, 0x02, 0x00, 0x01]
            // OPT: root owner, TYPE 41, CLASS = payload 4096, TTL = ext-rcode 0, version 0, DO, Z 0; no rdata
            + [0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00]
        XCTAssertEqual(message.encoded(), expected)
        let decoded = try DNSMessage(decoding: expected)
        XCTAssertEqual(decoded, message.withCounts)
        XCTAssertEqual(decoded.additionals, [])
        XCTAssertEqual(decoded.header.additionalCount, 1)
    }

    func testOPTExtendedRCodeVersionAndOptions() throws {
        let cookie: [UInt8] = [0x00, 0x0A, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]
        let message = DNSMessage(
            header: DNSHeader(id: 3, flags: 0x8000),
            edns: EDNSRecord(udpPayloadSize: 1232, extendedRCodeHigh: 1, version: 0, dnssecOK: false, options: cookie))
        let expected = headerBytes(id: 3, flags: 0x8000, ar: 1)
            + [0x00, 0x00, 0x29, 0x04, 0xD0, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0C] + cookie
        XCTAssertEqual(message.encoded(), expected)
        let decoded = try DNSMessage(decoding: expected)
        XCTAssertEqual(decoded.edns?.options, cookie)
        XCTAssertEqual(decoded.responseCode, .badVers, "RFC 6891 §6.1.3: (1 << 4) | 0 = 16")
        XCTAssertEqual(try LDNSOracle.rcode(expected), "BADVERS")
    }

    func testDecodesEDNSVersionAndIgnoresOtherZBits() throws {
        let bytes = headerBytes(id: 4, flags: 0, ar: 1) + [0x00, 0x00, 0x29, 0x02, 0x00, 0x00, 0x01, 0x7F, 0xFF, 0x00, 0x00]
        let edns = try XCTUnwrap(try DNSMessage(decoding: bytes).edns)
        XCTAssertEqual(edns.udpPayloadSize, 512)
        XCTAssertEqual(edns.version, 1)
        XCTAssertFalse(edns.dnssecOK)
        XCTAssertEqual(edns.extendedRCodeHigh, 0)
    }

    func testOnlyTheFirstRootOPTBecomesEDNS() throws {
        let opt = { (payload: UInt16) in [0x00, 0x00, 0x29] + be16(payload) + [0, 0, 0, 0, 0, 0] }
        let badOwner = wire("x") + [0x00, 0x29, 0x10, 0x00, 0, 0, 0, 0, 0, 0]
        let bytes = headerBytes(id: 5, flags: 0, ar: 3) + badOwner + opt(1232) + opt(4096)
        let decoded = try DNSMessage(decoding: bytes)
        XCTAssertEqual(decoded.edns?.udpPayloadSize, 1232)
        XCTAssertEqual(decoded.additionals.map(\.type), [.opt, .opt])
        XCTAssertEqual(decoded.additionals.map(\.name), [dn("x"), .root])
        XCTAssertEqual(decoded.header.additionalCount, 3)
    }

    // MARK: Decoding failures

    func testTrailingBytesAreRejected() {
        assertThrows(.trailingBytes(at: aResponseBytes.count)) { try DNSMessage(decoding: aResponseBytes + [0]) }
        assertThrows(.trailingBytes(at: 12)) { try DNSMessage(decoding: headerBytes(id: 0, flags: 0) + [0xFF, 0xFF]) }
    }

    func testCountsLargerThanTheContentAreTruncation() {
        var bytes = aResponseBytes
        bytes[11] = 1  // claims one additional record that is not there
        assertThrows(.truncated(at: aResponseBytes.count)) { try DNSMessage(decoding: bytes) }
        var questions = aResponseBytes
        questions[5] = 0xFF
        assertThrows(matching: { _ in true }) { try DNSMessage(decoding: questions) }
    }

    func testPointerLoopInsideAMessage() {
        // The answer owner points forward at itself-ish: offset 33 is the answer's own start.
        var bytes = aResponseBytes
        bytes[33] = 0xC0
        bytes[34] = 33
        assertThrows(.pointerLoop(at: 33)) { try DNSMessage(decoding: bytes) }
    }

    func testHeaderOnlyMessage() throws {
        let decoded = try DNSMessage(decoding: headerBytes(id: 0xFFFF, flags: 0xFFFF))
        XCTAssertEqual(decoded.header.id, 0xFFFF)
        XCTAssertEqual(decoded.header.flags, 0xFFFF)
        XCTAssertEqual(decoded.questions, [])
        assertThrows(.truncated(at: 10)) { try DNSMessage(decoding: Array(headerBytes(id: 1, flags: 0).prefix(11))) }
    }

    func testUnknownTypeAndClassRoundTrip() throws {
        let record = ResourceRecord(
            name: dn("x.example"), type: RecordType(rawValue: 65280), recordClass: RecordClass(rawValue: 65000),
            ttl: 0xFFFF_FFFF, data: .unknown([0xC0, 0x0C, 0, 1]))
        let message = DNSMessage(answers: [record])
        let expected = headerBytes(id: 0, flags: 0, an: 1) + wire("x", "example")
            + [0xFF, 0x00, 0xFD, 0xE8, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x04, 0xC0, 0x0C, 0x00, 0x01]
        XCTAssertEqual(message.encoded(), expected)
        XCTAssertEqual(try DNSMessage(decoding: expected), message.withCounts)
    }

    func testMXPTRNSHINFORoundTrip() throws {
        let message = DNSMessage(
            header: DNSHeader(id: 9, flags: 0x8400),
            answers: [
                ResourceRecord(name: dn("example.org"), ttl: 1, data: .mx(preference: 10, exchange: dn("mx.example.org"))),
                ResourceRecord(name: dn("example.org"), ttl: 1, data: .ns(dn("ns.example.org"))),
                ResourceRecord(name: dn("1.2.0.192.in-addr.arpa"), ttl: 1, data: .ptr(dn("host.example.org"))),
                ResourceRecord(name: dn("example.org"), ttl: 1, data: .hinfo(cpu: ascii("RFC8482"), os: [])),
            ])
        let bytes = message.encoded()
        XCTAssertEqual(try DNSMessage(decoding: bytes), message.withCounts)
        XCTAssertEqual(try LDNSOracle.records(bytes, section: .answer), [
            "example.org.\t1\tIN\tMX\t10 mx.example.org.",
            "example.org.\t1\tIN\tNS\tns.example.org.",
            "1.2.0.192.in-addr.arpa.\t1\tIN\tPTR\thost.example.org.",
            "example.org.\t1\tIN\tHINFO\t\"RFC8482\" \"\"",
        ])
        // MX exchange: 10, "mx" + pointer to example.org at 12 (owner of the first answer).
        XCTAssertEqual(Array(bytes[(12 + 13 + 10)...].prefix(7)), [0x00, 0x0A, 0x02, 0x6D, 0x78, 0xC0, 0x0C])
    }

    // MARK: Writer details

    func testWriterPrefixAndRegisteredNames() {
        let question = wire("Svc", "cluster", "local")
        var writer = WireWriter(prefix: headerBytes(id: 0, flags: 0, qd: 1) + question + [0, 1, 0, 1])
        writer.registerName(dn("Svc.cluster.local"), at: 12)
        writer.writeName(dn("svc.CLUSTER.local"))
        writer.writeName(dn("x.cluster.local"))
        writer.writeName(dn("cluster.local"), compress: false)
        let start = 12 + question.count + 4
        XCTAssertEqual(Array(writer.bytes[start...]), [0xC0, 12, 1, 0x78, 0xC0, 16] + wire("cluster", "local"))
    }

    func testNonCompressingWriterWritesNamesInFull() {
        var writer = WireWriter()
        writer.compresses = false
        writer.writeName(dn("a.b"))
        writer.writeName(dn("a.b"))
        XCTAssertEqual(writer.bytes, wire("a", "b") + wire("a", "b"))
        XCTAssertEqual(writer.count, 10)
    }

    func testNoPointerTargetsBeyondOffset0x3FFF() throws {
        // Fill past 16 KiB with TXT records, then repeat a name first written beyond 0x3FFF.
        let filler = (0..<70).map { index in
            ResourceRecord(name: dn("f\(index).example"), ttl: 1, data: .txt([[UInt8](repeating: 0x7A, count: 240)]))
        }
        let late = dn("late.example")
        let message = DNSMessage(
            answers: filler + [
                ResourceRecord(name: late, ttl: 1, data: .a(address("192.0.2.1"))),
                ResourceRecord(name: late, ttl: 2, data: .cname(dn("again.late.example"))),
            ])
        let bytes = message.encoded()
        XCTAssertGreaterThan(bytes.count, 0x4000 + 100)
        XCTAssertEqual(try DNSMessage(decoding: bytes), message.withCounts)
        XCTAssertEqual(try LDNSOracle.records(bytes, section: .answer).suffix(2), [
            "late.example.\t1\tIN\tA\t192.0.2.1", "late.example.\t2\tIN\tCNAME\tagain.late.example.",
        ])
    }

    // MARK: Random messages against ldns

    func testRandomMessagesRoundTripAndAgreeWithLDNS() throws {
        var generator = SplitMix64(seed: 0xC1A5_7E4D)
        let alphabet = ascii("abcXYZ019-")
        func randomName() -> DomainName {
            let count = Int.random(in: 1...4, using: &generator)
            let labels = (0..<count).map { _ in
                (0..<Int.random(in: 1...3, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0x61 }
            }
            return (try? DomainName(labels: labels + [ascii("test")])) ?? .root
        }
        for round in 0..<200 {
            var records: [ResourceRecord] = []
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let owner = randomName()
                let data: RData
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: data = .a(.v4(UInt32.random(in: 0...UInt32.max, using: &generator)))
                case 1: data = .cname(randomName())
                case 2: data = .srv(SRVData(priority: 1, weight: 2, port: 3, target: randomName()))
                case 3: data = .ns(randomName())
                default: data = .mx(preference: 5, exchange: randomName())
                }
                records.append(ResourceRecord(name: owner, ttl: UInt32(round), data: data))
            }
            let message = DNSMessage(
                header: DNSHeader(id: UInt16(round), flags: 0x8400),
                questions: [DNSQuestion(name: randomName(), type: .any)], answers: records)
            let bytes = message.encoded()
            XCTAssertEqual(try DNSMessage(decoding: bytes), message.withCounts, "round \(round)")
            let lines = try LDNSOracle.records(bytes, section: .answer)
            XCTAssertEqual(lines.count, records.count)
            for (line, record) in zip(lines, records) {
                let fields = line.split(separator: "\t").map(String.init)
                XCTAssertEqual(fields.first?.lowercased(), record.name.description.lowercased(), "round \(round): \(line)")
                XCTAssertEqual(fields.count > 3 ? fields[3] : "", record.type.description)
                let target: DomainName? = switch record.data {
                case .cname(let n), .ns(let n): n
                case .srv(let srv): srv.target
                case .mx(_, let exchange): exchange
                default: nil
                }
                if let target {
                    XCTAssertEqual(fields.last?.split(separator: " ").last.map { $0.lowercased() }, target.description.lowercased(), line)
                }
            }
        }
    }
}
