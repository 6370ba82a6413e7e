import ClusterRegistry
import DNSTestSupport
import DNSWire
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// RFC 7766: several length-framed queries on one connection, in one write or split across writes.
final class TCPTransportTests: XCTestCase {
    func testSeveralQueriesOnOneConnectionIncludingSplitFrames() async throws {
        let service = Service(name: "web", namespace: "shop", kind: .clusterIP([IPAddress("10.0.0.7")!]))
        let fixture = try await ServerFixture(objects: [.service(service)])
        let names = ["web.shop.svc.cluster.local", "nope.shop.svc.cluster.local", "WEB.shop.svc.cluster.local"]
        let queries = try names.enumerated().map { index, name in
            var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
            message.header.id = UInt16(100 + index)
            let bytes = message.encoded()
            return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
        }
        let connection = try DNSTestClient.TCPStream(port: fixture.port)
        // First two frames in one write, the third split in the middle of its length prefix.
        try connection.send(raw: queries[0] + queries[1] + queries[2].prefix(1))
        usleep(50_000)
        try connection.send(raw: Array(queries[2].dropFirst()))
        var replies: [UInt16: DNSMessage] = [:]
        for _ in names {
            let reply = try DNSMessage(decoding: try XCTUnwrap(connection.receiveFrame()))
            replies[reply.header.id] = reply
        }
        XCTAssertEqual(replies[100]?.answerLines, ["web.shop.svc.cluster.local. A 10.0.0.7"])
        XCTAssertEqual(replies[101]?.responseCode, .nxDomain)
        XCTAssertEqual(replies[102]?.answerLines, ["WEB.shop.svc.cluster.local. A 10.0.0.7"])
        try await fixture.shutdown()
    }

    func testIdleAndHalfSentConnectionsAreClosed() async throws {
        let fixture = try await ServerFixture(objects: [], tcpIdleTimeout: .milliseconds(300))
        let idle = try DNSTestClient.TCPStream(port: fixture.port, timeout: 3)
        let partial = try DNSTestClient.TCPStream(port: fixture.port, timeout: 3)
        try partial.send(raw: [0x00])  // half a length prefix, then silence
        let started = Date()
        XCTAssertNil(idle.receiveFrame(), "idle connection got data")
        XCTAssertNil(partial.receiveFrame(), "half-sent connection got data")
        // Closed by the server well before our 3 s receive timeout.
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        try await fixture.shutdown()
    }
}
