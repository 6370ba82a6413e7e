import XCTest

/// Checks shared by the end-to-end tests; every expectation comes from the demo manifests or
/// DESIGN.md §1 (TTL 5, AA on authoritative answers, SOA in negative answers).
enum Expect {
    /// The cluster zone's SOA rdata without the serial: `ns.dns.<zone>. hostmaster.<zone>. * 7200 1800 86400 ttl`.
    static func clusterSOA(zone: String = "cluster.local.", ttl: Int = 5) -> [String] {
        ["ns.dns.\(zone)", "hostmaster.\(zone)", "7200", "1800", "86400", "\(ttl)"]
    }

    /// NOERROR, AA, and exactly `rdata` (as a set) for `type` at `owner` with `ttl`; nothing else in the answer.
    static func answer(
        _ reply: DigReply, owner: String, type: String, _ rdata: [String], ttl: Int = 5,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(reply.status, "NOERROR", "\(reply)", file: file, line: line)
        XCTAssertTrue(reply.isAuthoritative, "aa flag missing\n\(reply)", file: file, line: line)
        XCTAssertFalse(reply.isTruncated, "tc flag set\n\(reply)", file: file, line: line)
        XCTAssertEqual(reply.answers(type), rdata.sorted(), "\(reply)", file: file, line: line)
        XCTAssertEqual(reply.answer.count, rdata.count, "unexpected extra answers\n\(reply)", file: file, line: line)
        for record in reply.answer {
            XCTAssertEqual(record.owner, owner, "owner\n\(reply)", file: file, line: line)
            XCTAssertEqual(record.ttl, ttl, "TTL of \(record)", file: file, line: line)
            XCTAssertEqual(record.rrClass, "IN", file: file, line: line)
        }
    }

    /// NOERROR, empty answer, the zone's SOA in authority (RFC 2308 NODATA).
    static func noData(
        _ reply: DigReply, soaOwner: String = "cluster.local.", soa: [String] = clusterSOA(), soaTTL: Int = 5,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        negative(reply, status: "NOERROR", soaOwner: soaOwner, soa: soa, soaTTL: soaTTL, file: file, line: line)
    }

    /// NXDOMAIN, empty answer, the zone's SOA in authority.
    static func nxDomain(
        _ reply: DigReply, soaOwner: String = "cluster.local.", soa: [String] = clusterSOA(), soaTTL: Int = 5,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        negative(reply, status: "NXDOMAIN", soaOwner: soaOwner, soa: soa, soaTTL: soaTTL, file: file, line: line)
    }

    private static func negative(
        _ reply: DigReply, status: String, soaOwner: String, soa: [String], soaTTL: Int, file: StaticString,
        line: UInt
    ) {
        XCTAssertEqual(reply.status, status, "\(reply)", file: file, line: line)
        XCTAssertTrue(reply.isAuthoritative, "aa flag missing\n\(reply)", file: file, line: line)
        XCTAssertEqual(reply.answer, [], "\(reply)", file: file, line: line)
        guard let record = reply.authority.first(where: { $0.type == "SOA" }) else {
            return XCTFail("no SOA in authority\n\(reply)", file: file, line: line)
        }
        XCTAssertEqual(record.owner, soaOwner, "\(reply)", file: file, line: line)
        XCTAssertEqual(record.ttl, soaTTL, "SOA TTL\n\(reply)", file: file, line: line)
        var fields = record.rdata.split(separator: " ").map(String.init)
        if fields.count == 7 { fields.remove(at: 2) }  // the serial is not fixed
        XCTAssertEqual(fields, soa, "SOA rdata\n\(reply)", file: file, line: line)
    }

    /// The additional section's address records as `owner TYPE address`, sorted.
    static func additionalAddresses(_ reply: DigReply) -> [String] {
        reply.additional.filter { $0.type == "A" || $0.type == "AAAA" }
            .map { "\($0.owner) \($0.type) \($0.rdata)" }.sorted()
    }
}
