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
        let socket = try RawSocket.open(.udp, host: server.host, port: server.port, from: source)
        defer { close(socket) }
        RawSocket.setReceiveTimeout(socket, milliseconds: 500)
        beforeSending()
        for id in 0..<count {
            var query = DNSMessage(questions: [DNSQuestion(name: try DomainName("nginx-service.myserver.svc.cluster.local"), type: .a)])
            query.header.id = UInt16(id)
            let bytes = query.encoded()
            _ = send(socket, bytes, bytes.count, 0)
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
