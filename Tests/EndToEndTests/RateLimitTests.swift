import DNSWire
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Issue #11 item 8 on the real binary: with `--rrl-responses-per-second`, a burst of
/// identical queries from one client gets at most the rate in answers, some of the rest as
/// empty truncated replies (the slip) and the others dropped; another client is answered
/// meanwhile, and without the flag the whole burst is answered.
final class RateLimitTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() { servers.stopAll() }

    struct Tally: Equatable {
        var answered = 0
        var truncated = 0
    }

    /// Sends `count` copies of one query from a UDP socket bound to `source` (one source port:
    /// one serving thread), between `beforeSending` and `afterSending`, then reads replies until
    /// none comes for half a second.
    static func burst(
        _ server: ServerProcess, from source: String, count: Int, beforeSending: () -> Void = {}, afterSending: () -> Void = {}
    ) throws -> Tally {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(socket) }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        _ = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 500_000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port).bigEndian)
        address.sin_addr.s_addr = inet_addr(server.host)
        beforeSending()
        for id in 0..<count {
            var query = DNSMessage(questions: [DNSQuestion(name: try DomainName("nginx-service.myserver.svc.cluster.local"), type: .a)])
            query.header.id = UInt16(id)
            let bytes = query.encoded()
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        afterSending()
        var tally = Tally()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let received = recv(socket, &buffer, buffer.count, 0)
            guard received > 0 else { break }
            let reply = try DNSMessage(decoding: Array(buffer.prefix(received)))
            if reply.header[.truncated] {
                XCTAssertEqual(reply.answers.count, 0)
                tally.truncated += 1
            } else {
                XCTAssertEqual(reply.answers.count, 1)
                tally.answered += 1
            }
        }
        return tally
    }

    func testABurstToOneClientIsLimitedAndOthersAreAnswered() throws {
        let limited = try servers.start(arguments: ["--rrl-responses-per-second", "5"])
        let tally = try Self.burst(limited, from: "127.0.0.21", count: 60)
        // At most two one-second windows of 5 (the burst may straddle a boundary).
        XCTAssertGreaterThanOrEqual(tally.answered, 5, "\(tally)")
        XCTAssertLessThanOrEqual(tally.answered, 10, "\(tally)")
        XCTAssertGreaterThanOrEqual(tally.truncated, 20, "every second limited answer slips: \(tally)")
        XCTAssertLessThan(tally.answered + tally.truncated, 60, "the rest are dropped: \(tally)")
        XCTAssertEqual(try Self.burst(limited, from: "127.0.0.22", count: 1), Tally(answered: 1))
        // Counted in metrics: every query of the burst was answered, slipped or dropped.
        let port = try XCTUnwrap(MetricsEndToEndTests.metricsPort(in: limited.stdout), limited.stdout)
        let body = try MetricsEndToEndTests.scrape(port: port)
        XCTAssertTrue(body.contains(#"clusterdns_rrl_responses_total{action="truncated"} \#(tally.truncated)"#), body)
        XCTAssertTrue(
            body.contains(#"clusterdns_rrl_responses_total{action="dropped"} \#(60 - tally.answered - tally.truncated)"#), body)

        let open = try servers.start()
        XCTAssertEqual(try Self.burst(open, from: "127.0.0.21", count: 60), Tally(answered: 60))
    }
}
