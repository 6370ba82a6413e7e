import ClusterRegistry
import DNSTestSupport
import DNSWire
import DNSServer
import NIOCore
import NIOPosix
import XCTest

@testable import DNSServer

#if canImport(Glibc)
import Glibc
#endif

/// Out-of-zone names go to real upstream servers (NSD on loopback).
final class ForwardingTests: XCTestCase {
    private var nsd: NSDServer!

    override func setUpWithError() throws {
        nsd = try NSDServer(zones: ["example.com": UpstreamZones.exampleCom])
    }

    override func tearDown() {
        nsd?.stop()
    }

    func testForwardsOutOfZoneQueriesOverUDPAndTCP() async throws {
        let fixture = try await ServerFixture(objects: [], upstreams: [nsd.port])
        let udp = try await fixture.ask("www.example.com", .a)
        XCTAssertEqual(udp.responseCode, .noError)
        XCTAssertEqual(udp.answerLines, ["www.example.com. A 93.184.216.34"])
        XCTAssertTrue(udp.header[.recursionAvailable])
        let tcp = try await fixture.ask("WWW.Example.COM", .aaaa, tcp: true)
        XCTAssertEqual(tcp.answerLines, ["WWW.Example.COM. AAAA 2606:2800:220:1:248:1893:25c8:1946"])
        let missing = try await fixture.ask("nope.example.com", .a)
        XCTAssertEqual(missing.responseCode, .nxDomain)
        try await fixture.shutdown()
    }

    func testLargeUpstreamAnswersFollowTheClientsSizeAndTCP() async throws {
        let fixture = try await ServerFixture(objects: [], upstreams: [nsd.port])
        // 60 A records (~1 kB): a client offering 4096 over UDP gets them all (within our 1232 cap).
        let reply = try await fixture.ask("big.example.com", .a, payload: 4096)
        XCTAssertFalse(reply.header[.truncated])
        XCTAssertEqual(reply.answers.count, 60)
        // A client without EDNS cannot take them: upstream truncates at 512, the forwarder's
        // TCP retry still does not fit, so the client gets TC and comes back over TCP, where
        // the forwarder uses TCP upstream too.
        let small = try await fixture.ask("big.example.com", .a)
        XCTAssertTrue(small.header[.truncated])
        let overTCP = try await fixture.ask("big.example.com", .a, tcp: true)
        XCTAssertEqual(overTCP.answers.count, 60)
        try await fixture.shutdown()
    }

    func testForwarderRetriesTruncatedUDPRepliesOverTCP() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let forwarder = Forwarder(
            upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: nsd.port)], timeout: .seconds(2), group: group)
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName("huge.example.com"), type: .a)])
        query.header.id = 4321
        query.edns = EDNSRecord(udpPayloadSize: 4096)
        let reply = try DNSMessage(decoding: try await forwarder.resolve(query.encoded(), udpLimit: 4096))
        XCTAssertEqual(reply.header.id, 4321)
        XCTAssertFalse(reply.header[.truncated])
        XCTAssertEqual(reply.answers.count, 80)
        // With room for only 1232 bytes the truncated UDP reply is passed on instead.
        let small = try DNSMessage(decoding: try await forwarder.resolve(query.encoded(), udpLimit: 1232))
        XCTAssertTrue(small.header[.truncated])
        try await group.shutdownGracefully()
    }

    /// Identical misses in flight at once reach the upstream once (issue #10), by NSD's own
    /// count. All 20 are asked inside one task on the only event loop, the one the upstream
    /// socket reads on, so none can see the reply before the last has joined: deterministic.
    func testIdenticalConcurrentMissesReachNSDOnce() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let forwarder = Forwarder(
            upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: nsd.port)], timeout: .seconds(2), group: group)
        let queries = try (0..<20).map { index -> [UInt8] in
            var query = DNSMessage(questions: [DNSQuestion(name: try DomainName("db.example.com"), type: .a)])
            query.header.id = UInt16(1000 + index)
            query.header[.recursionDesired] = true
            return query.encoded()
        }
        let before = try nsd.statistics()
        let answers = try await group.next().submit { queries.map { forwarder.resolving($0, udpLimit: 1232) } }.get()
        for (index, answer) in answers.enumerated() {
            let reply = try DNSMessage(decoding: try await answer.get())
            XCTAssertEqual(reply.header.id, UInt16(1000 + index), "each client gets its own ID back")
            XCTAssertEqual(reply.answerLines, ["db.example.com. A 10.20.30.40"])
        }
        let after = try nsd.statistics()
        XCTAssertEqual(after["num.queries", default: 0] - before["num.queries", default: 0], 1, "\(after)")
        try await group.shutdownGracefully()
    }

    func testNoUpstreamMeansRefused() async throws {
        let fixture = try await ServerFixture(objects: [])
        let reply = try await fixture.ask("www.example.com", .a)
        XCTAssertEqual(reply.responseCode, .refused)
        XCTAssertEqual(reply.questions.first?.name.description, "www.example.com.")
        try await fixture.shutdown()
    }

    func testSilentUpstreamGivesServfailWithinTheDeadlineAndFailsOver() async throws {
        let silent = try SilentSocket()
        let alone = try await ServerFixture(objects: [], upstreams: [silent.port], upstreamTimeout: .milliseconds(300))
        let started = Date()
        let reply1 = try await alone.ask("www.example.com", .a)
        XCTAssertEqual(reply1.responseCode, .servFail)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        try await alone.shutdown()

        let failover = try await ServerFixture(objects: [], upstreams: [silent.port, nsd.port], upstreamTimeout: .milliseconds(300))
        let reply2 = try await failover.ask("db.example.com", .a)
        XCTAssertEqual(reply2.answerLines, ["db.example.com. A 10.20.30.40"])
        try await failover.shutdown()
    }

    func testExternalNameTargetIsResolvedUpstreamAndAppended() async throws {
        let service = Service(name: "my-service", namespace: "prod", kind: .externalName("www.example.com"))
        let fixture = try await ServerFixture(objects: [.service(service)], upstreams: [nsd.port])
        let reply = try await fixture.ask("my-service.prod.svc.cluster.local", .a)
        XCTAssertEqual(reply.responseCode, .noError)
        XCTAssertEqual(reply.answerLines, [
            "my-service.prod.svc.cluster.local. CNAME www.example.com.",
            "www.example.com. A 93.184.216.34",
        ])
        let cnameOnly = try await fixture.ask("my-service.prod.svc.cluster.local", .cname)
        XCTAssertEqual(cnameOnly.answerLines, ["my-service.prod.svc.cluster.local. CNAME www.example.com."])
        try await fixture.shutdown()
    }
}

/// A bound UDP socket that never answers: an upstream that times out.
private final class SilentSocket {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
 guard result else {
            close(fd)
            throw DNSTestClient.Failure(description: "cannot bind a silent socket")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
