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
        let connection = try TCPConnection(port: fixture.port)
        // First two frames in one write, the third split in the middle of its length prefix.
        try connection.send(queries[0] + queries[1] + queries[2].prefix(1))
        usleep(50_000)
        try connection.send(Array(queries[2].dropFirst()))
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
}

/// A raw TCP connection for framing tests.
private final class TCPConnection {
    let fd: Int32

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var limit = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw DNSTestClient.Failure(description: "connect failed")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw DNSTestClient.Failure(description: "send failed")
        }
    }

    func receiveFrame() -> [UInt8]? {
        guard let prefix = receive(2) else { return nil }
        return receive(Int(prefix[0]) << 8 | Int(prefix[1]))
    }

    private func receive(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
            guard got > 0 else { return nil }
            filled += got
        }
        return buffer
    }
}
