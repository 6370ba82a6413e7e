import ClusterRegistry
import DNSResponder
import DNSTestSupport
import DNSWire
import XCTest

/// Size limits (DESIGN §3 step 4): 512 bytes over UDP without EDNS, the advertised size (at
/// least 512, at most ours) with it, 65535 over TCP. Additional records go first and do not set
/// TC (RFC 2181 §9); then, with `--no-shuffle`, whole RRsets are dropped from the end of the
/// answer and TC is set. Shuffled (the default), the closing RRset keeps the records of this
/// query's rotation that fit, with TC (`testShuffledSetKeepsWhatFits`, AddressRotationTests).
final class TruncationTests: XCTestCase {
    private let unshuffled = ResponderOptions(shuffle: false)
    private let edns4096 = EDNSRecord(udpPayloadSize: 4096)

    private func rr(_ owner: String, _ type: String, _ data: String) -> String { "\(owner) 5 IN \(type) \(data)" }

    private func addresses(_ service: String, _ prefix: String, _ count: Int) -> [String] {
        (1...count).map { rr(Zone.svc(service), "A", "\(prefix).\($0)") }
    }

    private let truncatedFlags: Set<String> = ["qr", "aa", "tc", "rd"]

    /// 150 A records (16 bytes each) cannot fit 512 or 1232 bytes: TC with the answer cut to
    /// whole RRsets, which here leaves it empty.
    func testLargeHeadlessAnswer() {
        check([
            AnswerCase("big.testns.svc.cluster.local", .a, flags: truncatedFlags),
            AnswerCase("big.testns.svc.cluster.local", .a, edns: edns4096, flags: truncatedFlags),
            AnswerCase("big.testns.svc.cluster.local", .a, transport: .tcp, answer: addresses("big", "10.2.0", 150)),
        ], options: unshuffled)
        // With a larger payload of our own, the client's 4096 is honoured.
        check(AnswerCase("big.testns.svc.cluster.local", .a, edns: edns4096, answer: addresses("big", "10.2.0", 150)),
              options: ResponderOptions(maxUDPPayload: 4096))
    }

    /// 40 A records (≈690 bytes): too big for 512, fits EDNS 1232.
    func testEDNSFitsMore() {
        check([
            AnswerCase("forty.testns.svc.cluster.local", .a, flags: truncatedFlags),
            AnswerCase("forty.testns.svc.cluster.local", .a, edns: EDNSRecord(udpPayloadSize: 512), flags: truncatedFlags),
            AnswerCase("forty.testns.svc.cluster.local", .a, edns: edns4096, answer: addresses("forty", "10.4.0", 40)),
            AnswerCase("forty.testns.svc.cluster.local", .a, edns: EDNSRecord(udpPayloadSize: 1232),
                       answer: addresses("forty", "10.4.0", 40)),
        ], options: unshuffled)
    }

    /// 7 SRV records (≈440 bytes) fit in 512 only without their 7 additional A records (≈110
    /// bytes): the additional section is dropped, TC stays clear.
    func testAdditionalDroppedFirst() {
        let mid = Zone.svc("mid")
        let srv = (0..<7).map { rr("_http._tcp." + mid, "SRV", "0 14 80 host-\($0).\(mid)") }
        let glue = (0..<7).map { rr("host-\($0)." + mid, "A", "10.3.0.\($0 + 1)") }
        check([
            AnswerCase("_http._tcp.mid.testns.svc.cluster.local", .srv, answer: srv),
            // Payloads below 512 count as 512 (RFC 6891 §6.2.5).
            AnswerCase("_http._tcp.mid.testns.svc.cluster.local", .srv, edns: EDNSRecord(udpPayloadSize: 100), answer: srv),
            AnswerCase("_http._tcp.mid.testns.svc.cluster.local", .srv, edns: edns4096, answer: srv, additional: glue),
            AnswerCase("_http._tcp.mid.testns.svc.cluster.local", .srv, transport: .tcp, answer: srv, additional: glue),
        ])
    }

    /// A CNAME chain is two RRsets: over UDP the CNAME fits and the 150 A records do not.
    func testTruncationKeepsWholeRRsets() {
        let cname = rr(Zone.svc("bigalias"), "CNAME", Zone.svc("big"))
        check([
            AnswerCase("bigalias.testns.svc.cluster.local", .a, answer: [cname], flags: truncatedFlags),
            AnswerCase("bigalias.testns.svc.cluster.local", .a, transport: .tcp,
                       answer: [cname] + addresses("big", "10.2.0", 150)),
        ], options: unshuffled)
    }

    /// Shuffled, a chain keeps its CNAME and then as many of the closing set's records as fit,
    /// from this query's rotation on (id 0x1234 = 4660, 4660 mod 150 = 10): 27 A records of
    /// 16 bytes fit after the question and the CNAME in 512.
    func testShuffledSetKeepsWhatFits() {
        let cname = rr(Zone.svc("bigalias"), "CNAME", Zone.svc("big"))
        check(AnswerCase("bigalias.testns.svc.cluster.local", .a,
                         answer: [cname] + (11...37).map { rr(Zone.svc("big"), "A", "10.2.0.\($0)") }, flags: truncatedFlags))
    }

    /// Weight ⌊100/150⌋ = 0 becomes 1 so every target stays eligible; over TCP all 150 SRV
    /// and their 150 addresses are sent.
    func testMinimumWeightAndLargeTCPReply() throws {
        let query = TestQuery(name: "_http._tcp.big.testns.svc.cluster.local", type: .srv)
        let exchange = Harness.exchange(query, transport: .tcp)
        verifyPacket(exchange.reply, query: query, label: "big SRV over TCP")
        let answer = try Harness.ldnsLines(exchange.reply, .answer)
        XCTAssertEqual(answer.count, 150)
        XCTAssertEqual(Set(answer.map { $0.split(separator: " ")[4...6].joined(separator: " ") }), ["0 1 80"])
        XCTAssertEqual(try Harness.ldnsLines(exchange.reply, .additional).count, 150)
        XCTAssertFalse(try LDNSOracle.flags(exchange.reply).contains("tc"))
    }

    /// No UDP reply exceeds its limit, whatever the query.
    func testUDPRepliesStayWithinLimit() {
        let names = ["big", "forty", "mid", "bigalias", "hdls", "svc1"].map { "\($0).testns.svc.cluster.local" }
            + ["_http._tcp.big.testns.svc.cluster.local", "_http._tcp.mid.testns.svc.cluster.local"]
        for name in names {
            for type in [RecordType.a, .srv, .any] {
                for (edns, limit) in [(EDNSRecord?.none, 512), (EDNSRecord(udpPayloadSize: 700), 700),
                                      (edns4096, 1232), (EDNSRecord(udpPayloadSize: 65535), 1232)] {
                    let exchange = Harness.exchange(TestQuery(name: name, type: type, edns: edns))
                    XCTAssertLessThanOrEqual(exchange.reply.count, limit, "\(name) \(type) limit \(limit)")
                    XCTAssertNoThrow(try LDNSOracle.packetText(exchange.reply), "\(name) \(type)")
                }
            }
        }
    }
}
