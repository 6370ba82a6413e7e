import DNSTestSupport
import DNSWire
import Foundation
import XCTest

/// Golden wire files: `Golden/NAME.hex` holds the exact payload (hex bytes, `#` comments) and
/// `Golden/NAME.txt` the packet as ldns prints it. Each message is built in code; its encoding
/// must equal the hex, ldns must render those bytes as the text, and our decoder must return
/// the message. Regenerate with `UPDATE_GOLDEN=1 swift test --filter GoldenWireTests`, then
/// review the diff by eye: the files are the specification, not a snapshot.
final class GoldenWireTests: XCTestCase {
    func testAAnswer() throws { try check("a-answer") }
    func testNXDomainWithSOA() throws { try check("nxdomain-soa") }
    func testSRVWithAdditional() throws { try check("srv-additional") }
    func testCNAMEChain() throws { try check("cname-chain") }
    func testTXT() throws { try check("txt") }
    func testAAAAWithMixedCaseQuestion() throws { try check("aaaa-mixed-case") }
    func testQueryWithEDNSDOBit() throws { try check("query-edns-do") }
    func testTruncatedReply() throws { try check("tc-reply") }
    func testPTR() throws { try check("ptr") }
    func testBadVersion() throws { try check("badvers") }

    func testEveryGoldenFileHasACase() throws {
        let directory = try goldenDirectory()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let names = Set(files.filter { $0.hasSuffix(".hex") || $0.hasSuffix(".txt") }.map { String($0.prefix { $0 != "." }) })
        XCTAssertEqual(names, Set(Self.cases.keys))
    }

    // MARK: Cases

    private static let zone = "cluster.local"

    private static func soa() throws -> ResourceRecord {
        ResourceRecord(
            name: try DomainName(zone), ttl: 30,
            data: .soa(SOAData(
                mname: try DomainName("ns.dns.cluster.local"), rname: try DomainName("hostmaster.cluster.local"),
                serial: 1_700_000_000, refresh: 7200, retry: 1800, expire: 86400, minimum: 30)))
    }

    private static func a(_ owner: String, _ text: String, ttl: UInt32 = 30) throws -> ResourceRecord {
        guard let value = IPAddress(text) else { throw DNSWireError.invalidPresentation(text) }
        return ResourceRecord(name: try DomainName(owner), ttl: ttl, data: value.isIPv4 ? .a(value) : .aaaa(value))
    }

    private static func question(_ text: String, _ type: RecordType) throws -> DNSQuestion {
        DNSQuestion(name: try DomainName(text), type: type)
    }

    private static func header(id: UInt16, _ flags: [DNSHeader.Flag], rcode: UInt8 = 0) -> DNSHeader {
        var header = DNSHeader(id: id)
        for flag in flags { header[flag] = true }
        header.rcodeLow = rcode
        return header
    }

    /// name → (one-line summary for the hex file, message builder)
    private static let cases: [String: (summary: String, build: @Sendable () throws -> DNSMessage)] = [
        "a-answer": ("web.default.svc.cluster.local. A → 10.96.0.10, authoritative", {
            DNSMessage(
                header: header(id: 0x1A2B, [.response, .authoritative, .recursionDesired]),
                questions: [try question("web.default.svc.cluster.local", .a)],
                answers: [try a("web.default.svc.cluster.local", "10.96.0.10")])
        }),
        "nxdomain-soa": ("NXDOMAIN with the zone SOA in authority, EDNS 1232", {
            DNSMessage(
                header: header(id: 0x2B3C, [.response, .authoritative, .recursionDesired], rcode: 3),
                questions: [try question("missing.default.svc.cluster.local", .a)],
                authorities: [try soa()],
                edns: EDNSRecord(udpPayloadSize: 1232))
        }),
        "srv-additional": ("headless SRV: two targets (never compressed, RFC 2782) with A records in additional", {
            let owner = "_http._tcp.web.default.svc.cluster.local"
            let targets = ["web-0.web.default.svc.cluster.local", "web-1.web.default.svc.cluster.local"]
            return DNSMessage(
                header: header(id: 0x3C4D, [.response, .authoritative, .recursionDesired]),
                questions: [try question(owner, .srv)],
                answers: try targets.map { target in
                    ResourceRecord(name: try DomainName(owner), ttl: 30,
                                   data: .srv(SRVData(priority: 0, weight: 50, port: 80, target: try DomainName(target))))
                },
                additionals: [try a(targets[0], "10.244.1.5"), try a(targets[1], "10.244.2.7")])
        }),
        "cname-chain": ("alias → mid → web → A, each CNAME target compressed", {
            DNSMessage(
                header: header(id: 0x4D5E, [.response, .authoritative, .recursionDesired]),
                questions: [try question("alias.default.svc.cluster.local", .a)],
                answers: [
                    ResourceRecord(name: try DomainName("alias.default.svc.cluster.local"), ttl: 30,
                                   data: .cname(try DomainName("mid.default.svc.cluster.local"))),
                    ResourceRecord(name: try DomainName("mid.default.svc.cluster.local"), ttl: 30,
                                   data: .cname(try DomainName("web.default.svc.cluster.local"))),
                    try a("web.default.svc.cluster.local", "10.96.0.10"),
                ])
        }),
        "txt": ("dns-version TXT plus a TXT with empty, spaced, quoted, backslash and non-ASCII strings", {
            let owner = try DomainName("dns-version.cluster.local")
            return DNSMessage(
                header: header(id: 0x5E6F, [.response, .authoritative]),
                questions: [DNSQuestion(name: owner, type: .txt)],
                answers: [
                    ResourceRecord(name: owner, ttl: 28800, data: .txt([Array("1.1.0".utf8)])),
                    ResourceRecord(name: owner, ttl: 28800, data: .txt([
                        Array("a b".utf8), [], Array("say \"hi\"".utf8), Array("back\\slash".utf8), [0xFF, 0x09],
                    ])),
                ])
        }),
        "aaaa-mixed-case": ("AAAA for a mixed-case question; answers point at the question, so they carry its spelling", {
            DNSMessage(
                header: header(id: 0x6F70, [.response, .authoritative, .recursionDesired]),
                questions: [try question("Web.Default.svc.cluster.local", .aaaa)],
                answers: [
                    try a("web.default.svc.cluster.local", "fd00:10:96::a"),
                    try a("web.default.svc.cluster.local", "2001:db8::1"),
                ],
                edns: EDNSRecord(udpPayloadSize: 1232))
        }),
        "query-edns-do": ("query with RD+AD, EDNS udp 4096, DO bit and a client COOKIE option", {
            DNSMessage(
                header: header(id: 0x7081, [.recursionDesired, .authenticData]),
                questions: [try question("kubernetes.default.svc.cluster.local", .a)],
                edns: EDNSRecord(udpPayloadSize: 4096, dnssecOK: true,
                                 options: [0x00, 0x0A, 0x00, 0x08, 0x24, 0xA5, 0x1C, 0x3E, 0x90, 0x01, 0x7B, 0x6D]))
        }),
        "tc-reply": ("UDP reply that did not fit: TC set, question only", {
            DNSMessage(
                header: header(id: 0x8192, [.response, .authoritative, .truncated, .recursionDesired]),
                questions: [try question("big.default.svc.cluster.local", .a)],
                edns: EDNSRecord(udpPayloadSize: 1232))
        }),
        "ptr": ("reverse lookup of 10.96.0.10", {
            guard let ip = IPAddress("10.96.0.10") else { throw DNSWireError.invalidPresentation("ip") }
            let reverse = try DomainName(ip.reverseName)
            return DNSMessage(
                header: header(id: 0x92A3, [.response, .authoritative, .recursionDesired]),
                questions: [DNSQuestion(name: reverse, type: .ptr)],
                answers: [ResourceRecord(name: reverse, ttl: 30, data: .ptr(try DomainName("web.default.svc.cluster.local")))])
        }),
        "badvers": ("reply to EDNS version 1: extended RCODE 1 + header RCODE 0 = BADVERS (16)", {
            DNSMessage(
                header: header(id: 0xA3B4, [.response, .recursionDesired]),
                questions: [try question("web.default.svc.cluster.local", .a)],
                edns: EDNSRecord(udpPayloadSize: 1232, extendedRCodeHigh: 1))
        }),
    ]

    // MARK: Checking

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let entry = try XCTUnwrap(Self.cases[name], file: file, line: line)
        let message = try entry.build()
        let bytes = message.encoded()
        let text = Self.normalise(try LDNSOracle.packetText(bytes))
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            let directory = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().appendingPathComponent("Golden")
            try Self.annotatedHex(bytes, summary: "\(name): \(entry.summary)")
                .write(to: directory.appendingPathComponent(name + ".hex"), atomically: true, encoding: .utf8)
            try text.write(to: directory.appendingPathComponent(name + ".txt"), atomically: true, encoding: .utf8)
            print("wrote golden \(name) to \(directory.path)")
            return
        }
        let directory = try goldenDirectory()
        let golden = try Hex.parse(String(contentsOf: directory.appendingPathComponent(name + ".hex"), encoding: .utf8))
        let goldenText = try String(contentsOf: directory.appendingPathComponent(name + ".txt"), encoding: .utf8)

        // (1) our encoder produces exactly the reviewed bytes
        XCTAssertEqual(Hex.format(bytes), Hex.format(golden), "\(name): encoding differs from golden", file: file, line: line)
        // (2) an independent decoder reads the golden bytes as the reviewed text
        XCTAssertEqual(Self.normalise(try LDNSOracle.packetText(golden)), Self.normalise(goldenText),
                       "\(name): ldns rendering differs", file: file, line: line)
        // (3) our decoder reads the golden bytes back into the message we built
        let decoded = try DNSMessage(decoding: golden)
        XCTAssertEqual(decoded, message.withCounts, "\(name): decode differs", file: file, line: line)
        XCTAssertEqual(decoded.responseCode, message.responseCode, file: file, line: line)
        if case .query(let view) = parseQuery(golden).result {
            XCTAssertEqual(view.id, message.header.id, file: file, line: line)
        }
    }

    private func goldenDirectory() throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil), "Golden resources missing")
    }

    /// Drops the lines ldns fills from the receive context rather than the packet: the
    /// timestamp (rendered in the local time zone) and the server address. Trailing blanks
    /// are trimmed because ldns ends the flags line with a space.
    static func normalise(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(";; WHEN:") && !$0.hasPrefix(";; SERVER:") }
            .map { line in String(line.reversed().drop { $0 == " " || $0 == "\t" }.reversed()) }
            .joined(separator: "\n")
            .trimmingCharacters(in: .newlines) + "\n"
    }

    /// Hex with one comment line per header/question/record, at most 16 bytes a line.
    static func annotatedHex(_ bytes: [UInt8], summary: String) throws -> String {
        var lines = ["# \(summary)", "# Generated by GoldenWireTests (UPDATE_GOLDEN=1); reviewed by hand."]
        func emit(_ comment: String, _ range: Range<Int>) {
            lines.append("# \(range.lowerBound): \(comment)")
            for start in stride(from: range.lowerBound, to: range.upperBound, by: 16) {
                lines.append(Hex.format(bytes[start..<min(start + 16, range.upperBound)]))
            }
        }
        var reader = WireReader(bytes: bytes)
        let header = DNSHeader(
            id: try reader.readUInt16(), flags: try reader.readUInt16(), questionCount: try reader.readUInt16(),
            answerCount: try reader.readUInt16(), authorityCount: try reader.readUInt16(), additionalCount: try reader.readUInt16())
        emit(String(format: "header id 0x%04x flags 0x%04x qd %d an %d ns %d ar %d", header.id, header.flags,
                    header.questionCount, header.answerCount, header.authorityCount, header.additionalCount), 0..<12)
        for _ in 0..<header.questionCount {
            let start = reader.offset
            let question = try reader.readQuestion()
            emit("question \(question.name) \(question.type) \(question.recordClass)", start..<reader.offset)
        }
        let sections = [("answer", header.answerCount), ("authority", header.authorityCount), ("additional", header.additionalCount)]
        for (section, count) in sections {
            for _ in 0..<count {
                let start = reader.offset
                let record = try reader.readRecord()
                if record.type == .opt {
                    emit(String(format: "%@ OPT udp %d, ttl field 0x%08x (ext-rcode, version, DO/Z)", section,
                                record.recordClass.rawValue, record.ttl), start..<reader.offset)
                } else {
                    emit("\(section) \(record.name) \(record.type) ttl \(record.ttl)", start..<reader.offset)
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
