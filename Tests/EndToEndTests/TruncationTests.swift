import XCTest

/// Answers bigger than a datagram: TC over UDP, everything over TCP, EDNS buffer sizes and
/// "drop additional before setting TC" (DESIGN.md §3 step 4; RFC 1035 §4.2.1, RFC 6891 §6.2.5).
final class TruncationTests: XCTestCase {
    private let servers = ServerGroup()
    private var scratch: TemporaryDirectory?
    private var dig = Dig(host: "", port: 0)

    /// 120 ready + 2 not-ready endpoints: 120 A records are ~1.9 kB, over 512 and over 1232.
    private let big = ManifestWriter.addresses(block: 1, count: 120)
    /// 40 endpoints: ~700 bytes, over 512 but under any EDNS buffer we offer.
    private let mid = ManifestWriter.addresses(block: 2, count: 40)
    /// 7 endpoints: the 7 SRV answers fit in 512 bytes, their 7 A additionals do not.
    private let seven = ManifestWriter.addresses(block: 3, count: 7)

    override func setUpWithError() throws {
        let scratch = try TemporaryDirectory()
        self.scratch = scratch
        try scratch.write("big.yaml", ManifestWriter.headlessService(
            name: "big", namespace: "load", ready: big, notReady: ["10.9.9.1", "10.9.9.2"]))
        try scratch.write("mid.yaml", ManifestWriter.headlessService(name: "mid", namespace: "load", ready: mid))
        try scratch.write("seven.yaml", ManifestWriter.headlessService(name: "seven", namespace: "load", ready: seven))
        dig = try servers.start(manifests: scratch.path).dig
    }

    override func tearDown() {
        servers.stopAll()
        scratch?.remove()
    }

    func testUDPWithoutEDNSSetsTC() throws {
        let reply = try dig.query("big.load.svc.cluster.local.", options: ["+noedns", "+ignore"])
        XCTAssertEqual(reply.status, "NOERROR", "\(reply)")
        XCTAssertEqual(reply.transport, "UDP", "\(reply)")
        XCTAssertTrue(reply.isTruncated, "120 A records cannot fit 512 bytes\n\(reply)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(reply.messageSize), 512, "\(reply)")
        XCTAssertLessThan(reply.answer.count, big.count, "\(reply)")
    }

    func testTCPReturnsEveryReadyEndpoint() throws {
        let reply = try dig.query("big.load.svc.cluster.local.", over: .tcp)
        Expect.answer(reply, owner: "big.load.svc.cluster.local.", type: "A", big)
        XCTAssertEqual(reply.transport, "TCP")
        // A client that sees TC retries over TCP and gets the same full set.
        let retried = try dig.query("big.load.svc.cluster.local.", options: ["+noedns"])
        XCTAssertEqual(retried.transport, "TCP", "\(retried)")
        XCTAssertEqual(retried.answers("A"), big.sorted())
    }

    func testTCPSRVCarriesEveryTargetAddress() throws {
        let name = "_web._tcp.big.load.svc.cluster.local."
        let reply = try dig.query(name, "SRV", over: .tcp)
        let targets = big.map { "\($0.replacingOccurrences(of: ".", with: "-")).big.load.svc.cluster.local." }
        Expect.answer(reply, owner: name, type: "SRV", targets.map { "0 1 80 \($0)" })  // ⌊100/120⌋ → 1
        XCTAssertEqual(
            Expect.additionalAddresses(reply), zip(targets, big).map { "\($0) A \($1)" }.sorted(), "\(reply)")
    }

    func testEDNSBufferOf4096OverUDP() throws {
        let full = try dig.query("big.load.svc.cluster.local.", over: .tcp, options: ["+bufsize=4096"])
        let fullSize = try XCTUnwrap(full.messageSize)
        let reply = try dig.query("big.load.svc.cluster.local.", options: ["+bufsize=4096", "+ignore"])
        XCTAssertEqual(reply.transport, "UDP")
        let advertised = try XCTUnwrap(reply.ednsUDPSize, "a reply to an EDNS query carries OPT\n\(reply)")
        XCTAssertGreaterThanOrEqual(advertised, 512, "\(reply)")
        // RFC 6891 §6.2.5: the usable size is the smaller of the client's and the server's.
        let limit = min(4096, advertised)
        let size = try XCTUnwrap(reply.messageSize)
        XCTAssertLessThanOrEqual(size, limit, "\(reply)")
        if fullSize <= limit {
            XCTAssertFalse(reply.isTruncated, "a \(fullSize)-byte answer fits \(limit)\n\(reply)")
            XCTAssertEqual(reply.answers("A"), big.sorted())
        } else {
            XCTAssertTrue(reply.isTruncated, "a \(fullSize)-byte answer exceeds \(limit)\n\(reply)")
        }
        // 40 addresses (~700 bytes) need EDNS over UDP but fit any buffer ≥ 1232.
        let mid = try dig.query("mid.load.svc.cluster.local.", options: ["+bufsize=4096", "+ignore"])
        Expect.answer(mid, owner: "mid.load.svc.cluster.local.", type: "A", self.mid)
        XCTAssertEqual(mid.transport, "UDP")
        let midPlain = try dig.query("mid.load.svc.cluster.local.", options: ["+noedns", "+ignore"])
        XCTAssertTrue(midPlain.isTruncated, "\(midPlain)")
    }

    func testAdditionalIsDroppedBeforeAnswersAreTruncated() throws {
        let name = "seven.load.svc.cluster.local."
        let full = try dig.query(name, "SRV", over: .tcp, options: ["+noedns"])
        XCTAssertEqual(full.additional.count, 7, "\(full)")
        XCTAssertGreaterThan(try XCTUnwrap(full.messageSize), 512, "test premise: the full reply exceeds 512")

        let reply = try dig.query(name, "SRV", options: ["+noedns", "+ignore"])
        XCTAssertFalse(reply.isTruncated, "answers fit; only additional data was dropped\n\(reply)")
        XCTAssertEqual(reply.answers("SRV"), full.answers("SRV"), "\(reply)")
        XCTAssertEqual(reply.answer.count, 7)
        XCTAssertLessThanOrEqual(try XCTUnwrap(reply.messageSize), 512, "\(reply)")
        XCTAssertLessThan(reply.additional.count, 7, "\(reply)")
    }

    func testNotReadyEndpointsAreNotServed() throws {
        for transport in Dig.Transport.allCases {
            Expect.nxDomain(try dig.query("10-9-9-1.big.load.svc.cluster.local.", over: transport))
            Expect.answer(
                try dig.query("10-1-0-120.big.load.svc.cluster.local.", over: transport),
                owner: "10-1-0-120.big.load.svc.cluster.local.", type: "A", ["10.1.0.120"])
        }
    }

    /// A headless SRV set too large for 512 bytes (issue #10): dig's random IDs rotate it, so
    /// the records that fit, sent with TC, differ from query to query, and each is a run of
    /// the full set's records that are still whole and correct; over TCP the set is complete.
    func testTruncatedSRVSubsetsVary() throws {
        let name = "_web._tcp.mid.load.svc.cluster.local."
        let full = try dig.query(name, "SRV", over: .tcp).answers("SRV")
        XCTAssertEqual(full.count, mid.count)
        var firsts: Set<String> = []
        for _ in 0..<20 {
            let reply = try dig.query(name, "SRV", options: ["+noedns", "+ignore"])
            XCTAssertTrue(reply.isTruncated, "\(reply)")
            XCTAssertEqual(reply.transport, "UDP")
            let subset = reply.answers("SRV")
            XCTAssertGreaterThan(subset.count, 0, "a partial set is kept\n\(reply)")
            XCTAssertLessThan(subset.count, full.count)
            XCTAssertTrue(Set(subset).isSubset(of: full), "\(reply)")
            XCTAssertEqual(reply.additional.filter { $0.type != "OPT" }, [], "no additional data with TC\n\(reply)")
            if let first = reply.answer.first { firsts.insert(first.rdata) }
        }
        XCTAssertGreaterThan(firsts.count, 5, "different queries start at different records: \(firsts)")
    }
}
