import DNSTestSupport
import XCTest

/// Hostile or broken packets against the real server: what it must drop, what it must answer
/// with an error code (DESIGN.md §3 step 2), and that it keeps serving afterwards.
final class MalformedPacketTests: XCTestCase {
    private let servers = ServerGroup()
    private var server: ServerProcess?
    private var dig = Dig(host: "", port: 0)

    override func setUpWithError() throws {
        let server = try servers.startDemo()
        self.server = server
        dig = server.dig
    }

    override func tearDown() {
        servers.stopAll()
    }

    private func udpSocket() throws -> RawSocket {
        try RawSocket(.udp, host: dig.host, port: dig.port)
    }

    /// The server is alive and still answers correctly.
    private func assertStillServing(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(server?.isRunning, true, "server exited; stderr:\n\(server?.stderr ?? "")", file: file, line: line)
        for transport in Dig.Transport.allCases {
            XCTAssertEqual(
                try dig.short("nginx-service.myserver.svc.cluster.local", over: transport), ["10.100.57.113"],
                file: file, line: line)
        }
    }

    func testRuntDatagramsAndResponsesAreDroppedSilently() throws {
        let socket = try udpSocket()
        let garbage: [(String, [UInt8])] = [
            ("empty", []),
            ("one byte", [0x00]),
            ("11 bytes", Array(RawDNS.query(id: 0x1111, name: "cluster.local").prefix(11))),
            // QR=1: a response must never be answered (no reflection loops).
            ("response", RawDNS.query(id: 0x2222, name: "nginx-service.myserver.svc.cluster.local", flags: 0x8180)),
        ]
        for (label, bytes) in garbage {
            try socket.send(bytes)
            XCTAssertNil(socket.receive(timeout: 250).map(RawDNS.describe), "reply to \(label)")
        }
        try assertStillServing()
    }

    func testMalformedQueriesGetFormErr() throws {
        let socket = try udpSocket()
        let name = "nginx-service.myserver.svc.cluster.local"
        let valid = RawDNS.query(id: 0, name: name)
        let cases: [(String, UInt16, [UInt8])] = [
            ("qdcount 0", 0x3001, RawDNS.header(id: 0x3001, flags: 0x0100, questions: 0)),
            ("qdcount 2", 0x3002, RawDNS.header(id: 0x3002, flags: 0x0100, questions: 2)
                + RawDNS.question(name) + RawDNS.question(name)),
            ("question cut short", 0x3003, RawDNS.header(id: 0x3003, flags: 0x0100, questions: 1)
                + Array(valid[12..<30])),
            ("compression pointer loop", 0x3004, RawDNS.header(id: 0x3004, flags: 0x0100, questions: 1)
                + [0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01]),
            ("64-byte label", 0x3005, RawDNS.header(id: 0x3005, flags: 0x0100, questions: 1)
                + [64] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]),
        ]
        for (label, id, bytes) in cases {
            socket.drain()
            try socket.send(bytes)
            let reply = try XCTUnwrap(socket.receive(timeout: 2000), "no reply to \(label)")
            let header = try XCTUnwrap(RawDNS.Header(reply), "\(label): reply shorter than a header")
            XCTAssertEqual(header.id, id, label)
            XCTAssertTrue(header.isResponse, label)
            XCTAssertEqual(header.rcode, 1, "\(label): want FORMERR, got \(RawDNS.describe(reply))")
            XCTAssertEqual(header.answerCount, 0, label)
        }
        try assertStillServing()
    }

    func testUnsupportedOpcodeClassAndEDNSVersion() throws {
        let socket = try udpSocket()
        let name = "nginx-service.myserver.svc.cluster.local"
        // opcode STATUS (2) → NOTIMP; class CH → REFUSED (DESIGN.md §3).
        let cases: [(String, [UInt8], UInt8)] = [
            ("opcode STATUS", RawDNS.query(id: 0x4001, name: name, flags: 0x1100), 4),
            ("class CH", RawDNS.header(id: 0x4002, flags: 0x0100, questions: 1)
                + RawDNS.question(name, type: 16, qclass: 3), 5),
        ]
        for (label, bytes, rcode) in cases {
            socket.drain()
            try socket.send(bytes)
            let reply = try XCTUnwrap(socket.receive(timeout: 2000), "no reply to \(label)")
            let header = try XCTUnwrap(RawDNS.Header(reply), label)
            XCTAssertEqual(header.rcode, rcode, "\(label): \(RawDNS.describe(reply))")
            XCTAssertEqual(header.answerCount, 0, label)
        }
        // EDNS version 1 → BADVERS (RFC 6891 §6.1.3), which dig decodes from the OPT record.
        let badvers = try dig.query(name + ".", options: ["+edns=1", "+noednsnegotiation"])
        XCTAssertEqual(badvers.status, "BADVERS", "\(badvers)")
        XCTAssertEqual(badvers.answer, [], "\(badvers)")
        try assertStillServing()
    }

    func testRandomDatagramsDoNotHurtTheServer() throws {
        let socket = try udpSocket()
        var random = SplitMix64(seed: 0xC1D5)
        for _ in 0..<500 {
            let length = Int(random.next() % 600)
            try socket.send((0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        // Whatever came back must be a response header, never an echo of the garbage.
        while let reply = socket.receive(timeout: 300) {
            let header = try XCTUnwrap(RawDNS.Header(reply), "runt reply \(reply)")
            XCTAssertTrue(header.isResponse, RawDNS.describe(reply))
            XCTAssertEqual(header.answerCount, 0, RawDNS.describe(reply))
        }
        try assertStillServing()
    }

    func testBrokenTCPStreamsDoNotHurtTheServer() throws {
        // A frame announcing 300 bytes that never come; a frame of garbage; a lone length byte.
        let frames: [[UInt8]] = [[0x01, 0x2C, 0xDE, 0xAD], [0x00, 0x05, 1, 2, 3, 4, 5], [0x00]]
        for frame in frames {
            let socket = try RawSocket(.tcp, host: dig.host, port: dig.port)
            try socket.send(frame)
            socket.shutdownWrite()
            _ = socket.receive(timeout: 500)
        }
        // A well-formed query after a garbage frame on the same connection must not be needed:
        // the server may close it. A new connection must work.
        let socket = try RawSocket(.tcp, host: dig.host, port: dig.port)
        let query = RawDNS.query(id: 0x5005, name: "tomcat-serivce.myserver.svc.cluster.local")
        try socket.send([UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query)
        var received: [UInt8] = []
        while received.count < 2 || received.count < 2 + (Int(received[0]) << 8 | Int(received[1])) {
            guard let chunk = socket.receive(timeout: 2000), !chunk.isEmpty else { break }
            received += chunk
        }
        let header = try XCTUnwrap(RawDNS.Header(Array(received.dropFirst(2))), "no TCP reply: \(received)")
        XCTAssertEqual(header.id, 0x5005)
        XCTAssertEqual(header.rcode, 0)
        XCTAssertEqual(header.answerCount, 1)
        XCTAssertEqual(Array(received.suffix(4)), [10, 100, 160, 12], "the A rdata ends the reply")
        try assertStillServing()
    }
}

/// Hand-made DNS messages (RFC 1035 §4.1), independent of the code under test.
enum RawDNS {
    struct Header {
        var id: UInt16
        var flags: UInt16
        var answerCount: UInt16

        var isResponse: Bool { flags & 0x8000 != 0 }
        var rcode: UInt8 { UInt8(flags & 0x000F) }

        init?(_ bytes: [UInt8]) {
            guard bytes.count >= 12 else { return nil }
            id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
            answerCount = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
        }
    }

    static func header(id: UInt16, flags: UInt16, questions: UInt16) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF),
         UInt8(questions >> 8), UInt8(questions & 0xFF), 0, 0, 0, 0, 0, 0]
    }

    static func question(_ name: String, type: UInt16 = 1, qclass: UInt16 = 1) -> [UInt8] {
        let labels = name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        return labels + [0, UInt8(type >> 8), UInt8(type & 0xFF), UInt8(qclass >> 8), UInt8(qclass & 0xFF)]
    }

    /// A one-question query; `flags` 0x0100 = standard query with RD.
    static func query(id: UInt16, name: String, flags: UInt16 = 0x0100) -> [UInt8] {
        header(id: id, flags: flags, questions: 1) + question(name)
    }

    static func describe(_ bytes: [UInt8]) -> String {
        guard let header = Header(bytes) else { return "\(bytes.count) bytes" }
        return "id \(header.id) flags \(String(header.flags, radix: 16)) rcode \(header.rcode), \(bytes.count) bytes"
    }
}
