import Foundation
import XCTest

/// AXFR (RFC 5936) of the real binary's zones, read with dig and with ldns's drill, against
/// what `clusterdns records` prints; and REFUSED for everyone `--transfer-to` does not name,
/// and over UDP.
final class ZoneTransferTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() {
        servers.stopAll()
    }

    /// The transfer is the SOA, then every record `records` lists for the zone in the same
    /// order, then the SOA again, whose serial is the one SOA queries answer.
    func testTransferMatchesRecordsListing() throws {
        let server = try servers.startDemo(arguments: ["--transfer-to", "127.0.0.0/8"])
        let transfer = try Self.records(of: Subprocess.run(
            "dig", ["@\(server.host)", "-p", "\(server.port)", "+tries=1", "+time=5", "+tcp", "AXFR", "cluster.local"]).stdout)
        XCTAssertGreaterThan(transfer.count, 50, "\(transfer)")
        let soa = try server.dig.query("cluster.local", "SOA").answer.map(\.description)
        XCTAssertEqual(soa.count, 1)
        XCTAssertEqual(transfer.first, soa.first, "the transfer opens with the SOA queries get")
        XCTAssertEqual(transfer.last, soa.first, "and closes with it (RFC 5936 §2.2)")

        let listing = try Subprocess.run(
            try PackagePaths.binary(), ["records", "--manifests", PackagePaths.demoManifests, "--zones", PackagePaths.staticZones])
        XCTAssertEqual(listing.status, 0, listing.stderr)
        let expected = listing.normalizedLines.filter { line in
            let owner = line.prefix { $0 != " " }
            return (owner == "cluster.local." || owner.hasSuffix(".cluster.local.")) && !line.contains(" IN SOA ")
        }
        // The nameserver's address comes from `serve --listen`, which `records` does not have.
        let glue = "ns.dns.cluster.local. 5 IN A \(server.host)"
        XCTAssertTrue(transfer.contains(glue), "\(transfer)")
        XCTAssertEqual(Array(transfer.dropFirst().dropLast()).filter { $0 != glue }, expected)

        // ldns reads the same transfer: drill speaks AXFR itself.
        let drill = try Subprocess.run("drill", ["-p", "\(server.port)", "axfr", "cluster.local", "@\(server.host)"])
        XCTAssertEqual(Self.records(of: drill.stdout), transfer, drill.stderr)
    }

    /// A zone file is transferred too; a name we are not authoritative for is NOTAUTH.
    func testTransferOfZoneFileAndUnknownZone() throws {
        let server = try servers.startDemo(arguments: ["--transfer-to", "127.0.0.1"])
        let zone = try Self.records(of: Subprocess.run(
            "dig", ["@\(server.host)", "-p", "\(server.port)", "+tries=1", "+time=5", "+tcp", "AXFR", "example.internal"]).stdout)
        XCTAssertEqual(zone.first?.contains(" IN SOA ns1.example.internal. "), true, "\(zone)")
        XCTAssertTrue(zone.contains("www.example.internal. 300 IN A 192.168.39.80"), "\(zone)")
        XCTAssertEqual(try rcode(of: axfr("example.com", server, over: .tcp)), 9, "NOTAUTH")
        XCTAssertEqual(try rcode(of: axfr("in-addr.arpa", server, over: .tcp)), 9, "the reverse zones hold our PTRs only")
    }

    func testTransferIsRefusedByDefaultToOthersAndOverUDP() throws {
        let closed = try servers.startDemo()
        XCTAssertEqual(try rcode(of: axfr("cluster.local", closed, over: .tcp)), 5, "REFUSED without --transfer-to")
        let elsewhere = try servers.startDemo(arguments: ["--transfer-to", "10.0.0.0/8"])
        XCTAssertEqual(try rcode(of: axfr("cluster.local", elsewhere, over: .tcp)), 5, "REFUSED to other networks")
        let open = try servers.startDemo(arguments: ["--transfer-to", "127.0.0.0/8"])
        XCTAssertEqual(try rcode(of: axfr("cluster.local", open, over: .udp)), 5, "no AXFR over UDP (RFC 5936 §4.2)")
        XCTAssertEqual(try rcode(of: axfr("cluster.local", open, over: .tcp)), 0, "the control: allowed over TCP")
    }

    /// IXFR from a client holding the current serial gets the SOA alone (RFC 1995 §4); from an
    /// older one, the whole zone in AXFR form.
    func testIncrementalTransferAnsweredInFull() throws {
        let server = try servers.startDemo(arguments: ["--transfer-to", "127.0.0.0/8"])
        let soa = try server.dig.query("cluster.local", "SOA").answer.first
        let serial = try XCTUnwrap(soa.flatMap { Int($0.rdata.split(separator: " ")[2]) })
        func ixfr(_ serial: Int) throws -> [String] {
            try Self.records(of: Subprocess.run(
                "dig", ["@\(server.host)", "-p", "\(server.port)", "+tries=1", "+time=5", "IXFR=\(serial)", "cluster.local"]).stdout)
        }
        XCTAssertEqual(try ixfr(serial).count, 1)
        XCTAssertGreaterThan(try ixfr(serial - 1).count, 50)
    }

    // MARK: - Helpers

    /// The record lines of a dig or drill transcript, blanks collapsed.
    private static func records(of transcript: String) -> [String] {
        transcript.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            .filter { !$0.isEmpty && !$0.hasPrefix(";") }
    }

    /// The first reply to an AXFR query for `zone`, over a raw socket.
    private func axfr(_ zone: String, _ server: ServerProcess, over kind: RawSocket.Kind) throws -> [UInt8] {
        var query: [UInt8] = [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in zone.split(separator: ".") { query += [UInt8(label.utf8.count)] + Array(label.utf8) }
        query += [0, 0, 252, 0, 1]
        let socket = try RawSocket(kind, host: server.host, port: server.port)
        try socket.send(kind == .tcp ? [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query : query)
        let reply = try XCTUnwrap(socket.receive(timeout: 3000), "no reply to AXFR \(zone) over \(kind)")
        return kind == .tcp ? Array(reply.dropFirst(2)) : reply
    }

    private func rcode(of reply: [UInt8]) throws -> Int {
        XCTAssertGreaterThanOrEqual(reply.count, 12)
        XCTAssertEqual(Array(reply.prefix(2)), [0x12, 0x34])
        return Int(reply[3] & 0x0F)
    }
}
