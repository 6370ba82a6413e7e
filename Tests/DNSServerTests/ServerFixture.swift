import ClusterRegistry
import DNSServer
import RegistryReload
import DNSTestSupport
import DNSWire
import NIOCore
import NIOPosix
import Dispatch
import XCTest

/// An in-process server on a free loopback port over a registry built in code.
final class ServerFixture {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let store: RegistryStore
    let server: DNSServer
    let port: Int

    convenience init(
        objects: [KubernetesObject], upstreams: [Int] = [], upstreamTimeout: TimeAmount = .seconds(2),
        tcpIdleTimeout: TimeAmount = .seconds(10)
    ) async throws {
        let addresses = try upstreams.map { try SocketAddress(ipAddress: "127.0.0.1", port: $0) }
        try await self.init(
            objects: objects,
            resolver: ResolverSettings(upstreams: addresses, policy: .sequential, timeout: upstreamTimeout, cache: nil),
            tcpIdleTimeout: tcpIdleTimeout)
    }

    /// Full control of the recursive side; `port` 0 picks a free one.
    init(
        objects: [KubernetesObject], resolver: ResolverSettings, port: Int = 0, tcpIdleTimeout: TimeAmount = .seconds(10),
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        let configuration = RegistryConfiguration()
        store = RegistryStore(SnapshotBuilder.build(objects: objects, staticZones: [], configuration: configuration).snapshot)
        server = try await DNSServer.start(
            configuration: ServerConfiguration(
                listenHost: "127.0.0.1", listenPort: port, resolver: resolver, tcpIdleTimeout: tcpIdleTimeout),
            store: store, group: group, report: report)
        self.port = try XCTUnwrap(server.localAddress?.port)
    }

    func shutdown() async throws {
        await server.close()
        try await group.shutdownGracefully()
    }

    /// Asks over UDP (or TCP) and decodes the reply, failing the test when nothing comes back.
    /// The blocking socket calls run on a Dispatch thread: blocking the (two-thread) Swift
    /// concurrency pool could starve the server's own forwarding tasks.
    func ask(
        _ name: String, _ type: RecordType, tcp: Bool = false, payload: UInt16? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws -> DNSMessage {
        let port = self.port
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    try Self.exchange(name, type, port: port, tcp: tcp, payload: payload, file: file, line: line)
                })
            }
        }
    }

    private static func exchange(
        _ name: String, _ type: RecordType, port: Int, tcp: Bool, payload: UInt16?, file: StaticString, line: UInt
    ) throws -> DNSMessage {
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: type)])
        query.header.id = UInt16.random(in: 1...UInt16.max)
        query.header[.recursionDesired] = true
        query.edns = payload.map { EDNSRecord(udpPayloadSize: $0) }
        let bytes = query.encoded()
        let reply = tcp ? try DNSTestClient.tcp(bytes, port: port, timeout: 5) : try DNSTestClient.udp(bytes, port: port, timeout: 5)
        let answer = try XCTUnwrap(reply, "no reply for \(name) \(type)", file: file, line: line)
        _ = try LDNSOracle.packetText(answer)  // an independent decoder must accept it too
        let message = try DNSMessage(decoding: answer)
        XCTAssertEqual(message.header.id, query.header.id, "reply ID", file: file, line: line)
        return message
    }
}

/// Test zone served by NSD as the upstream resolver.
enum UpstreamZones {
    static let exampleCom = """
        $ORIGIN example.com.
        $TTL 300
        @ IN SOA ns.example.com. admin.example.com. 1 3600 600 86400 60
        @ IN NS ns.example.com.
        ns IN A 127.0.0.1
        www IN A 93.184.216.34
        www IN AAAA 2606:2800:220:1:248:1893:25c8:1946
        db IN A 10.20.30.40
        alias IN CNAME www.example.com.

        """
        + (1...60).map { "big IN A 10.9.\($0 / 256).\($0 % 256)" }.joined(separator: "\n") + "\n"
        // ~1.4 kB: more than NSD's default 1232-byte UDP limit, so it arrives truncated.
        + (1...80).map { "huge IN A 10.8.\($0 / 256).\($0 % 256)" }.joined(separator: "\n") + "\n"
}

extension DNSMessage {
    /// Answer records as `name type data` strings, for compact assertions.
    var answerLines: [String] {
        answers.map { "\($0.name) \($0.type) \($0.data.presentation)" }
    }
}

extension RData {
    var presentation: String {
        switch self {
        case .a(let address), .aaaa(let address): return address.description
        case .cname(let name), .ns(let name), .ptr(let name): return name.description
        case .srv(let srv): return "\(srv.priority) \(srv.weight) \(srv.port) \(srv.target)"
        default: return "\(self)"
        }
    }
}
