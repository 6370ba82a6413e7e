import ClusterRegistry
import DNSResponder
import DNSTestSupport
import DNSWire
import XCTest

/// Protocol behaviour around the answer table: case preservation, header flags, EDNS, classes,
/// meta-types, outcomes other than a reply, and malformed requests (DESIGN.md §1, §3).
final class ProtocolBehaviourTests: XCTestCase {
    private let rd = DNSHeader.Flag.recursionDesired.rawValue

    // MARK: - Case preservation

    /// Decoded names keep their wire bytes; `==` on DomainName ignores case, so compare bytes.
    private func assertSpelling(
        _ name: DomainName?, _ expected: String, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(name.map { String(decoding: $0.wire, as: UTF8.self) },
                       String(decoding: TestCluster.name(expected).wire, as: UTF8.self),
                       "\(what): spelling", file: file, line: line)
    }

    private func decodedReply(
        _ query: TestQuery, file: StaticString = #filePath, line: UInt = #line
    ) -> DNSMessage? {
        let exchange = Harness.exchange(query)
        verifyPacket(exchange.reply, query: query, label: query.name, file: file, line: line)
        do {
            return try DNSMessage(decoding: exchange.reply)
        } catch {
            XCTFail("\(query.name): \(error)", file: file, line: line)
            return nil
        }
    }

    func testAnswerOwnerEchoesQuestionSpelling() throws {
        let qname = "SVC1.TestNS.svc.Cluster.LOCAL"
        let message = try XCTUnwrap(decodedReply(TestQuery(name: qname, type: .a)))
        XCTAssertEqual(message.answers.count, 1)
        assertSpelling(message.answers.first?.name, qname, "answer owner")
        XCTAssertEqual(try Harness.ldnsLines(Harness.exchange(TestQuery(name: qname, type: .a)).reply, .answer),
                       ["SVC1.TestNS.svc.Cluster.LOCAL. 5 IN A 10.0.0.1"])
        XCTAssertTrue(message.header[.authoritative])
    }

    func testNegativeSOAOwnerUsesQueriedApexSpelling() throws {
        let nodata = try XCTUnwrap(decodedReply(TestQuery(name: "SVC1.TestNS.svc.Cluster.LOCAL", type: .aaaa)))
        XCTAssertEqual(nodata.authorities.count, 1)
        assertSpelling(nodata.authorities.first?.name, "Cluster.LOCAL", "NODATA SOA owner")
        let nxdomain = try XCTUnwrap(decodedReply(TestQuery(name: "NoSuch.TestNS.SVC.cluster.Local", type: .a)))
        XCTAssertEqual(nxdomain.responseCode, .nxDomain)
        assertSpelling(nxdomain.authorities.first?.name, "cluster.Local", "NXDOMAIN SOA owner")
        let file = try XCTUnwrap(decodedReply(TestQuery(name: "NoSuch.EXAMPLE.internal", type: .a)))
        assertSpelling(file.authorities.first?.name, "EXAMPLE.internal", "static zone SOA owner")
        let reverse = try XCTUnwrap(decodedReply(TestQuery(name: "1.0.0.10.IN-ADDR.arpa", type: .a)))
        assertSpelling(reverse.authorities.first?.name, "IN-ADDR.arpa", "reverse zone SOA owner")
    }

    func testOwnersEchoQueryCaseAcrossKinds() throws {
        for (qname, type) in [
            ("1-2-3-4.TestNS.Pod.Cluster.Local", RecordType.a),  // synthesized pod
            ("1.0.0.10.IN-ADDR.ARPA", .ptr),
            ("WWW.Example.Internal", .a),
            ("_HTTP._TCP.Svc1.TESTNS.svc.cluster.local", .srv),
            ("Dns-Version.CLUSTER.local", .txt),
            ("HDLS.testns.svc.cluster.local", .a),
        ] {
            let message = try XCTUnwrap(decodedReply(TestQuery(name: qname, type: type)))
            XCTAssertFalse(message.answers.isEmpty, qname)
            for record in message.answers { assertSpelling(record.name, qname, "\(qname) answer owner") }
        }
    }

    /// Targets are object names plus the zone; DNS compares them without case, and SRV targets
    /// are never compressed (RFC 2782), so only their value is checked here. The CNAME chain's
    /// second owner must be the CNAME target.
    func testTargetsOfMixedCaseQueries() throws {
        let cname = try XCTUnwrap(decodedReply(TestQuery(name: "ALIAS.TESTNS.svc.cluster.local", type: .a)))
        XCTAssertEqual(cname.answers.count, 2)
        assertSpelling(cname.answers.first?.name, "ALIAS.TESTNS.svc.cluster.local", "CNAME owner")
        XCTAssertEqual(cname.answers.first?.data, .cname(TestCluster.name("svc1.testns.svc.cluster.local")))
        XCTAssertEqual(cname.answers.last?.name, TestCluster.name("svc1.testns.svc.cluster.local"))
        XCTAssertEqual(cname.answers.last?.data, .a(TestCluster.ip("10.0.0.1")))

        let srv = try XCTUnwrap(decodedReply(TestQuery(name: "_HTTP._TCP.SVC1.TestNS.svc.Cluster.Local", type: .srv)))
        guard case .srv(let data)? = srv.answers.first?.data else { return XCTFail("no SRV: \(srv.answers)") }
        XCTAssertEqual(data.target, TestCluster.name("svc1.testns.svc.cluster.local"))
        XCTAssertEqual(srv.additionals.map(\.name), [TestCluster.name("svc1.testns.svc.cluster.local")])
    }

    // MARK: - Header flags

    func testFlags() throws {
        // AA on authoritative answers, negative ones included; RD copied; RA only when we
        // recurse (upstreams configured).
        check([
            AnswerCase("svc1.testns.svc.cluster.local", .a,
                       answer: ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"], flags: ["qr", "aa", "rd", "ra"]),
            AnswerCase("nosuch.testns.svc.cluster.local", .a, rcode: "NXDOMAIN", authority: [Zone.soa],
                       flags: ["qr", "aa", "rd", "ra"]),
        ], options: ResponderOptions(recursionAvailable: true))

        var query = TestQuery(name: "svc1.testns.svc.cluster.local", type: .a)
        query.flags = DNSHeader.Flag.checkingDisabled.rawValue  // no RD, CD set
        let reply = Harness.exchange(query).reply
        verifyPacket(reply, query: query, label: "no RD, CD")
        XCTAssertEqual(try LDNSOracle.flags(reply), ["qr", "aa"])
        let header = try DNSMessage(decoding: reply).header
        XCTAssertTrue(header[.checkingDisabled], "CD is copied (RFC 4035 §3.1.6)")
        XCTAssertFalse(header[.truncated])
        XCTAssertEqual(header.opcode, .query)
    }

    // MARK: - EDNS

    func testEDNSEchoedOnlyWhenAsked() throws {
        let plain = try XCTUnwrap(decodedReply(TestQuery(name: "svc1.testns.svc.cluster.local", type: .a)))
        XCTAssertNil(plain.edns)
        XCTAssertEqual(plain.header.additionalCount, 0)

        let edns = TestQuery(name: "svc1.testns.svc.cluster.local", type: .a, edns: EDNSRecord(udpPayloadSize: 4096))
        let withOPT = try XCTUnwrap(decodedReply(edns))
        XCTAssertEqual(withOPT.edns?.udpPayloadSize, 1232, "our payload size, not the client's")
        XCTAssertEqual(withOPT.edns?.version, 0)
        XCTAssertEqual(withOPT.edns?.dnssecOK, false)
        XCTAssertEqual(withOPT.header.additionalCount, 1)

        let doQuery = TestQuery(name: "svc1.testns.svc.cluster.local", type: .a,
                                edns: EDNSRecord(udpPayloadSize: 1232, dnssecOK: true))
        let withDO = try XCTUnwrap(decodedReply(doQuery))
        XCTAssertEqual(withDO.edns?.dnssecOK, true, "DO copied (RFC 3225 §3)")
        let text = try LDNSOracle.packetText(Harness.exchange(doQuery).reply)
        XCTAssertTrue(text.contains("udp: 1232"), text)
        XCTAssertTrue(text.contains("flags: do "), text)

        let advertised = Harness.exchange(edns, options: ResponderOptions(maxUDPPayload: 4096))
        verifyPacket(advertised.reply, query: edns, label: "maxUDPPayload 4096")
        XCTAssertEqual(try DNSMessage(decoding: advertised.reply).edns?.udpPayloadSize, 4096)

        // Options we do not implement (here a client COOKIE, RFC 7873 §5.2) are ignored, not echoed.
        let cookie = TestQuery(name: "svc1.testns.svc.cluster.local", type: .a, edns: EDNSRecord(
            udpPayloadSize: 4096, options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]))
        let withCookie = try XCTUnwrap(decodedReply(cookie))
        XCTAssertEqual(withCookie.edns?.options, [])
        XCTAssertEqual(withCookie.answers.count, 1)
    }

    func testEDNSOnNegativeAndSpecialAnswers() {
        let edns = EDNSRecord(udpPayloadSize: 4096, dnssecOK: true)
        check([
            AnswerCase("nosuch.testns.svc.cluster.local", .a, edns: edns, rcode: "NXDOMAIN", authority: [Zone.soa]),
            AnswerCase("svc1.testns.svc.cluster.local", .aaaa, edns: edns, authority: [Zone.soa]),
            AnswerCase("1-2-3-4.testns.pod.cluster.local", .a, edns: edns,
                       answer: ["1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4"]),
            AnswerCase("svc1.testns.svc.cluster.local", .any, edns: edns,
                       answer: ["svc1.testns.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
            AnswerCase("cluster.local", .axfr, edns: edns, rcode: "REFUSED", flags: ["qr", "rd"]),
            AnswerCase("_http._tcp.svc1.testns.svc.cluster.local", .srv, edns: edns,
                       answer: ["_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."],
                       additional: ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]),
        ])
    }

    /// RFC 6891 §6.1.3: an unsupported version gets BADVERS (extended RCODE 16: header 0, OPT 1)
    /// with an OPT of version 0, before any lookup, also for names we would forward.
    func testBADVERS() throws {
        for qname in ["svc1.testns.svc.cluster.local", "example.com"] {
            let query = TestQuery(name: qname, type: .a, edns: EDNSRecord(udpPayloadSize: 4096, version: 1))
            let exchange = Harness.exchange(query)
            guard case .reply(_, let rcode) = exchange.outcome else { XCTFail("\(qname): \(exchange.outcome)"); continue }
            XCTAssertEqual(rcode, .badVers, qname)
            verifyPacket(exchange.reply, query: query, label: qname)
            let message = try DNSMessage(decoding: exchange.reply)
            XCTAssertEqual(message.responseCode, .badVers, qname)
            XCTAssertEqual(message.header.rcodeLow, 0, qname)
            XCTAssertEqual(message.edns?.extendedRCodeHigh, 1, qname)
            XCTAssertEqual(message.edns?.version, 0, qname)
            XCTAssertTrue(message.answers.isEmpty && message.authorities.isEmpty && message.additionals.isEmpty, qname)
            XCTAssertFalse(message.header[.authoritative], qname)
            XCTAssertEqual(try LDNSOracle.rcode(exchange.reply), "BADVERS", qname)
        }
    }

    // MARK: - Classes and meta-types

    func testNonINClassIsRefused() {
        for (qname, type, recordClass) in [
            ("version.bind", RecordType.txt, RecordClass.chaos),
            ("svc1.testns.svc.cluster.local", .a, .chaos),
            ("svc1.testns.svc.cluster.local", .a, .any),
            ("svc1.testns.svc.cluster.local", .a, RecordClass(rawValue: 4)),
        ] {
            var testCase = AnswerCase(qname, type, rcode: "REFUSED", flags: ["qr", "rd"])
            testCase.query.recordClass = recordClass
            check(testCase)
        }
    }

    /// RFC 8482 §4.2: ANY gets one synthesized HINFO at names that have records; the usual
    /// negative answers otherwise.
    func testANY() {
        check([
            AnswerCase("svc1.testns.svc.cluster.local", .any,
                       answer: ["svc1.testns.svc.cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
            AnswerCase("cluster.local", .any, answer: ["cluster.local. 5 IN HINFO \"RFC8482\" \"\""]),
            .nodata("testns.svc.cluster.local", .any),
            .nxdomain("nosuch.testns.svc.cluster.local", .any),
        ])
    }

    func testZoneTransfersAreRefused() {
        check([
            AnswerCase("cluster.local", .axfr, transport: .tcp, rcode: "REFUSED", flags: ["qr", "rd"]),
            AnswerCase("cluster.local", .axfr, rcode: "REFUSED", flags: ["qr", "rd"]),
            AnswerCase("cluster.local", .ixfr, transport: .tcp, rcode: "REFUSED", flags: ["qr", "rd"]),
            AnswerCase("example.internal", .axfr, transport: .tcp, rcode: "REFUSED", flags: ["qr", "rd"]),
        ])
    }

    // MARK: - Outcomes other than a reply

    func testOutOfZoneIsForwarded() {
        for (qname, transport, edns, limit, line) in [
            ("example.com", Transport.udp, EDNSRecord?.none, 512, #line),
            ("example.com", .udp, EDNSRecord(udpPayloadSize: 4096), 1232, #line),
            ("example.com", .udp, EDNSRecord(udpPayloadSize: 100), 512, #line),  // RFC 6891 §6.2.5
            ("example.com", .tcp, nil, 65535, #line),
            (".", .udp, nil, 512, #line),
            ("local", .udp, nil, 512, #line),
            ("xcluster.local", .udp, nil, 512, #line),  // suffix, but not on a label boundary
            ("cluster.local.example.com", .udp, nil, 512, #line),
            ("example.internal.com", .udp, nil, 512, #line),
            ("9.9.9.9.in-addr.arpa", .udp, nil, 512, #line),  // reverse miss: forwarded (fallthrough)
            ("0.0.10.in-addr.arpa", .udp, nil, 512, #line),
            ("3.1.17.172.in-addr.arpa", .udp, nil, 512, #line),  // not-ready endpoint has no PTR
            ("1.1.1.10.in-addr.arpa", .udp, nil, 512, #line),  // IP-literal ExternalName has no PTR
            ("f.f.ip6.arpa", .udp, nil, 512, #line),
        ] {
            let query = TestQuery(name: qname, type: qname.hasSuffix("arpa") ? .ptr : .a, edns: edns)
            let outcome = Harness.exchange(query, transport: transport).outcome
            XCTAssertEqual(outcome, .forward(sizeLimit: limit), "\(qname) \(transport)", line: UInt(line))
        }
    }

    /// ExternalName to an out-of-zone target: the CNAME, then the server resolves the target.
    func testExternalNameChase() throws {
        for (qname, type, transport, edns, target, limit, line) in [
            ("ext.testns.svc.cluster.local", RecordType.a, Transport.udp, EDNSRecord?.none, "example.com", 512, #line),
            ("ext.testns.svc.cluster.local", .aaaa, .tcp, nil, "example.com", 65535, #line),
            ("EXT.testns.svc.cluster.local", .a, .udp, EDNSRecord(udpPayloadSize: 4096), "example.com", 1232, #line),
            ("outside.example.internal", .a, .udp, nil, "example.net", 512, #line),
        ] {
            let query = TestQuery(name: qname, type: type, edns: edns)
            let exchange = Harness.exchange(query, transport: transport)
            XCTAssertEqual(exchange.outcome, .chase(length: exchange.reply.count, target: TestCluster.name(target),
                                                    type: type, sizeLimit: limit), qname, line: UInt(line))
            verifyPacket(exchange.reply, query: query, label: qname, line: UInt(line))
            let answer = try Harness.ldnsLines(exchange.reply, .answer)
            XCTAssertEqual(answer.count, 1, qname, line: UInt(line))
            XCTAssertTrue(answer.first?.hasSuffix("IN CNAME \(target).") == true, "\(answer)", line: UInt(line))
            XCTAssertEqual(try LDNSOracle.rcode(exchange.reply), "NOERROR", line: UInt(line))
            XCTAssertTrue(try LDNSOracle.flags(exchange.reply).contains("aa"), line: UInt(line))
        }
    }

    /// A forwarded query is parsed once: the scratch keeps the responder's view of the packet it
    /// just answered, for that packet only (issue #10).
    func testTheScratchKeepsTheParsedQueryOfThePacketJustAnswered() throws {
        let scratch = ResponseScratch()
        let responder = Responder(options: ResponderOptions(recursionAvailable: true))
        let outside = TestQuery(name: "WWW.Example.com", type: .aaaa, edns: EDNSRecord(udpPayloadSize: 1400)).bytes
        let other = TestQuery(name: "www.example.com", type: .aaaa).bytes
        try outside.withUnsafeBytes { packet in
            XCTAssertEqual(
                responder.respond(to: packet, snapshot: TestCluster.standard, transport: .udp, scratch: scratch),
                .forward(sizeLimit: 1232))
            let query = try XCTUnwrap(scratch.parsedQuery(of: packet))
            XCTAssertEqual(query.type, .aaaa)
            XCTAssertEqual(query.edns?.udpPayloadSize, 1400)
            XCTAssertEqual(Array(scratch.lowercasedName.prefix(query.nameLength)), TestCluster.name("www.example.com").wire)
            other.withUnsafeBytes { XCTAssertNil(scratch.parsedQuery(of: $0), "another packet's view is never taken") }
        }
        // A packet that does not parse leaves no view behind.
        [UInt8](repeating: 0, count: 5).withUnsafeBytes { runt in
            _ = responder.respond(to: runt, snapshot: TestCluster.standard, transport: .udp, scratch: scratch)
            XCTAssertNil(scratch.parsedQuery(of: runt))
        }
    }

    /// `Responder.reject`: what the server sends when it cannot forward (REFUSED) or the
    /// upstreams failed (SERVFAIL): the question echoed, not authoritative.
    func testReject() throws {
        for rcode in [ResponseCode.refused, .servFail] {
            let query = TestQuery(name: "Example.COM", type: .a)
            let scratch = ResponseScratch()
            let length = query.bytes.withUnsafeBytes {
                Responder(options: ResponderOptions(recursionAvailable: true)).reject(request: $0, rcode: rcode, scratch: scratch)
            }
            let reply = scratch.bytes(length)
            verifyPacket(reply, query: query, label: "reject \(rcode)")
            let message = try DNSMessage(decoding: reply)
            XCTAssertEqual(message.responseCode, rcode)
            XCTAssertEqual(try LDNSOracle.flags(reply), ["qr", "rd", "ra"])
            XCTAssertEqual(message.header.answerCount + message.header.authorityCount, 0)
        }
    }

    // MARK: - Name length limits (RFC 1035 §2.3.4)

    /// `count` labels of 63 bytes, then `tail`: 4 × 64 + 1 = 257 bytes is too long.
    private func longName(_ labels: Int, length: Int = 63, tail: String) -> String {
        (0..<labels).map { String(repeating: Character(String(UnicodeScalar(UInt8(97 + $0)))), count: length) }
            .joined(separator: ".") + "." + tail
    }

    func testLongestNamesAreAnswered() throws {
        // 3 × 64 + a 36-byte label (37) + "testns.svc.cluster.local" (26) = exactly 255 bytes in wire form.
        let tail = "testns.svc.cluster.local"
        let name = longName(3, tail: String(repeating: "z", count: 255 - 3 * 64 - 26 - 1) + "." + tail)
        XCTAssertEqual(TestCluster.name(name).wire.count, 255)
        check(.nxdomain(name))
        let outside = longName(3, tail: String(repeating: "z", count: 255 - 3 * 64 - 13 - 1) + ".example.com")
        XCTAssertEqual(TestCluster.name(outside).wire.count, 255)
        XCTAssertEqual(Harness.exchange(TestQuery(name: outside, type: .a)).outcome, .forward(sizeLimit: 512))
    }

    func testOverlongNameIsFormErr() throws {
        var wire: [UInt8] = []
        for index in 0..<4 { wire += [63] + [UInt8](repeating: 97 + UInt8(index), count: 63) }
        wire += [0]  // 257 bytes
        try assertHeaderOnly(header(flags: rd) + wire + [0, 1, 0, 1], rcode: .formErr, opcode: 0)
    }

    // MARK: - Malformed requests (DESIGN §3 step 2)

    private func header(id: UInt16 = 0xBEEF, flags: UInt16, counts: (UInt16, UInt16, UInt16, UInt16) = (1, 0, 0, 0)) -> [UInt8] {
        [id, flags, counts.0, counts.1, counts.2, counts.3].flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    private let questionBytes: [UInt8] = TestCluster.name("svc1.testns.svc.cluster.local").wire + [0, 1, 0, 1]

    func testShortOrResponsePacketsAreDropped() {
        XCTAssertEqual(Harness.exchange([]).outcome, .drop)
        XCTAssertEqual(Harness.exchange(Array(TestQuery(name: "svc1.testns.svc.cluster.local", type: .a).bytes.prefix(11))).outcome,
                       .drop)
        let response = header(flags: DNSHeader.Flag.response.rawValue | rd) + questionBytes
        XCTAssertEqual(Harness.exchange(response).outcome, .drop, "QR=1: no reflection")
        XCTAssertEqual(Harness.exchange(response, transport: .tcp).outcome, .drop)
    }

    /// Header-only replies: ID, opcode and (unless `echoesRD` is false) RD copied, QR set, the
    /// RCODE, no sections.
    private func assertHeaderOnly(
        _ packet: [UInt8], rcode: ResponseCode, opcode: UInt16, echoesRD: Bool = true, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let exchange = Harness.exchange(packet)
        XCTAssertEqual(exchange.outcome, .reply(length: 12, rcode: rcode), file: file, line: line)
        let expectedFlags = DNSHeader.Flag.response.rawValue | opcode << 11 | (echoesRD ? rd : 0) | rcode.rawValue
        XCTAssertEqual(exchange.reply, header(flags: expectedFlags, counts: (0, 0, 0, 0)), file: file, line: line)
        _ = try LDNSOracle.packetText(exchange.reply)
        XCTAssertEqual(try DNSMessage(decoding: exchange.reply).responseCode, rcode, file: file, line: line)
    }

    /// NOTIMP echoes the opcode only: under an opcode we do not know the other bits may mean
    /// something else (genreport's `opcodeflg` sends opcode 15 with RD, AD and CD set).
    func testUnsupportedOpcodeIsNotImplemented() throws {
        let cd = DNSHeader.Flag.checkingDisabled.rawValue, ad: UInt16 = 0x0020
        try assertHeaderOnly(header(flags: 5 << 11 | rd) + questionBytes, rcode: .notImp, opcode: 5, echoesRD: false)  // UPDATE
        try assertHeaderOnly(header(flags: 4 << 11 | rd) + questionBytes, rcode: .notImp, opcode: 4, echoesRD: false)  // NOTIFY
        try assertHeaderOnly(header(flags: 2 << 11 | rd) + questionBytes, rcode: .notImp, opcode: 2, echoesRD: false)  // STATUS
        try assertHeaderOnly(
            header(flags: 15 << 11 | rd | cd | ad) + questionBytes, rcode: .notImp, opcode: 15, echoesRD: false)
    }

    func testMalformedQuestionIsFormErr() throws {
        try assertHeaderOnly(header(flags: rd, counts: (2, 0, 0, 0)) + questionBytes + questionBytes, rcode: .formErr, opcode: 0)
        try assertHeaderOnly(header(flags: rd, counts: (0, 0, 0, 0)), rcode: .formErr, opcode: 0)
        // Question cut short: name without type and class.
        try assertHeaderOnly(header(flags: rd) + questionBytes.dropLast(3), rcode: .formErr, opcode: 0)
        // A compression pointer as the question name.
        try assertHeaderOnly(header(flags: rd) + [0xC0, 0x0C, 0, 1, 0, 1], rcode: .formErr, opcode: 0)
        // A 64-byte label.
        try assertHeaderOnly(header(flags: rd) + [64] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1],
                             rcode: .formErr, opcode: 0)
        // An OPT record cut short.
        try assertHeaderOnly(header(flags: rd, counts: (1, 0, 0, 1)) + questionBytes + [0, 0, 41, 16],
                             rcode: .formErr, opcode: 0)
        // Two OPT records (RFC 6891 §6.1.1).
        let opt: [UInt8] = [0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]
        try assertHeaderOnly(header(flags: rd, counts: (1, 0, 0, 2)) + questionBytes + opt + opt, rcode: .formErr, opcode: 0)
    }
}
