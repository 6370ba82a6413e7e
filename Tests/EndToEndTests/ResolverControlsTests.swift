import DNSTestSupport
import Foundation
import XCTest

/// `--filter-aaaa` and `--dns64` (issue #13) with the real binary, `dig`, and a real NSD
/// upstream whose own statistics show which queries reached it.
final class ResolverControlsTests: XCTestCase {
    private let servers = ServerGroup()
    private var nsd: NSDServer?

    /// Only A records upstream: what an IPv4-only service looks like to DNS64.
    private static let zone = """
        $ORIGIN example.test.
        @ 300 IN SOA ns hostmaster 1 3600 900 604800 300
        @ 300 IN NS ns
        ns 300 IN A 127.0.0.1
        www 300 IN A 192.0.2.80

        """

    override func setUpWithError() throws {
        nsd = try NSDServer(zones: ["example.test": Self.zone])
    }

    override func tearDown() {
        servers.stopAll()
        nsd?.stop()
    }

    private func start(_ arguments: [String]) throws -> ServerProcess {
        try servers.start(arguments: ["--upstream", "127.0.0.1:\(try XCTUnwrap(nsd).port)"] + arguments)
    }

    /// Filtered AAAA questions are answered NODATA at once and never reach the upstream, which
    /// counts the A question it got and no AAAA; a cluster name keeps its AAAA.
    func testFilteredAAAANeverReachesTheUpstream() throws {
        let server = try start(["--filter-aaaa"])
        let before = try XCTUnwrap(nsd).statistics()
        for name in ["www.example.test", "other.example.test", "www.example.test"] {
            let reply = try server.dig.query(name, "AAAA")
            XCTAssertEqual(reply.status, "NOERROR", reply.transcript)
            XCTAssertEqual(reply.answer, [], reply.transcript)
            XCTAssertEqual(reply.authority.first?.type, "SOA", reply.transcript)
        }
        XCTAssertEqual(try server.dig.short("www.example.test"), ["192.0.2.80"])
        XCTAssertEqual(try server.dig.short("dual-echo.default.svc.cluster.local", "AAAA"), ["fd00:10:96::50"])
        let after = try XCTUnwrap(nsd).statistics()
        XCTAssertEqual(after["num.type.AAAA", default: 0] - before["num.type.AAAA", default: 0], 0, "no AAAA reached NSD: \(after)")
        XCTAssertEqual(after["num.type.A", default: 0] - before["num.type.A", default: 0], 1, "the A question did: \(after)")
    }

    /// The control: without the flag the same AAAA questions are forwarded.
    func testWithoutTheFilterAAAAIsForwarded() throws {
        let server = try start([])
        let before = try XCTUnwrap(nsd).statistics()
        _ = try server.dig.query("www.example.test", "AAAA")
        let after = try XCTUnwrap(nsd).statistics()
        XCTAssertEqual(after["num.type.AAAA", default: 0] - before["num.type.AAAA", default: 0], 1, "\(after)")
    }

    /// DNS64 against an upstream with only A records: AAAA synthesized in 64:ff9b::/96, and the
    /// prefix's PTR answered through the IPv4 reverse name (RFC 6147 §5.3.1).
    func testDNS64SynthesizesFromAnIPv4OnlyUpstream() throws {
        let server = try start(["--dns64"])
        XCTAssertEqual(try server.dig.short("www.example.test", "AAAA"), ["64:ff9b::c000:250"])
        XCTAssertEqual(try server.dig.short("www.example.test", "AAAA", over: .tcp), ["64:ff9b::c000:250"])
        XCTAssertEqual(try server.dig.short("www.example.test"), ["192.0.2.80"], "A is untouched")
        XCTAssertEqual(try server.dig.query("nosuch.example.test", "AAAA").status, "NXDOMAIN")
    }
}
