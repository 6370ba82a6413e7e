import DNSTestSupport
import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

@testable import DNSServer

/// TCP to upstreams is reused and pipelined (issue #10, RFC 7766 §6.2.1 and §7): many queries
/// share one connection, replies are matched by ID and question in any order, a closed
/// connection is replaced, and a silent one times its queries out.
final class UpstreamConnectionsTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    }

    override func tearDown() async throws {
        try? await group.shutdownGracefully()
    }

    private func query(_ name: String, id: UInt16 = 7) throws -> [UInt8] {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
        message.header.id = id
        return message.encoded()
    }

    /// 40 questions in flight at once reach the upstream on one connection; it answers them in
    /// reverse order, and each caller still gets the reply to its own question.
    func testQueriesShareOneConnectionAndRepliesMatchOutOfOrder() async throws {
        let upstream = try await FramedUpstream.start(group: group, answerAfter: 40)
        let connections = UpstreamConnections(group: group)
        let names = (0..<40).map { "name-\($0).example.com" }
        let replies = try await withThrowingTaskGroup(of: (String, [UInt8]).self) { tasks in
            for name in names {
                let query = try query(name)
                tasks.addTask { (name, try await connections.exchange(query, with: upstream.address, timeout: .seconds(5)).get()) }
            }
            return try await tasks.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for name in names {
            let reply = try DNSMessage(decoding: try XCTUnwrap(replies[name]))
            XCTAssertEqual(reply.questions.first?.name, try DomainName(name))
            XCTAssertTrue(reply.header[.response])
        }
        XCTAssertEqual(upstream.accepted, 1, "one connection carried every query")
        XCTAssertEqual(upstream.received.count, 40)
        XCTAssertEqual(Set(upstream.received.map(\.id)).count, 40, "each query in flight has its own ID (RFC 5452 §9.2)")
        XCTAssertEqual(connections.openedCount, 1)

        // Later queries reuse it too.
        upstream.answerAfter(1)
        _ = try await connections.exchange(try query("again.example.com"), with: upstream.address, timeout: .seconds(5)).get()
        XCTAssertEqual(upstream.accepted, 1)
        connections.close()
        try await upstream.channel.close()
    }

    /// When the upstream closes the connection, the next query opens a new one.
    func testAClosedConnectionIsReplaced() async throws {
        let upstream = try await FramedUpstream.start(group: group, answerAfter: 1)
        let connections = UpstreamConnections(group: group)
        _ = try await connections.exchange(try query("a.example.com"), with: upstream.address, timeout: .seconds(5)).get()
        upstream.closeConnections()
        // The close reaches us asynchronously: ask until a second connection has answered.
        var answered = false
        for attempt in 0..<50 where !answered {
            answered = (try? await connections.exchange(
                try query("b\(attempt).example.com"), with: upstream.address, timeout: .seconds(1)).get()) != nil
                && upstream.accepted == 2
        }
        XCTAssertTrue(answered)
        XCTAssertEqual(connections.openedCount, 2)
        connections.close()
        try await upstream.channel.close()
    }

    /// An upstream that reads and never answers: the query fails at its deadline.
    func testASilentConnectionTimesOut() async throws {
        let upstream = try await FramedUpstream.start(group: group, answerAfter: .max)
        let connections = UpstreamConnections(group: group)
        let started = ContinuousClock.now
        do {
            _ = try await connections.exchange(try query("slow.example.com"), with: upstream.address, timeout: .milliseconds(300)).get()
            XCTFail("expected a timeout")
        } catch Forwarder.Failure.timeout {
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
        connections.close()
        try await upstream.channel.close()
    }

    /// With real NSD: TCP-forced forwarding (node-local's stub) answers many names over one
    /// connection.
    func testForcedTCPForwardingToNSDUsesOneConnection() async throws {
        let nsd = try NSDServer(zones: ["example.com": UpstreamZones.exampleCom])
        defer { nsd.stop() }
        let upstream = try SocketAddress(ipAddress: "127.0.0.1", port: nsd.port)
        let forwarder = Forwarder(
            upstreams: UpstreamSet(addresses: [upstream], policy: .sequential), timeout: .seconds(3), group: group, forceTCP: true)
        let names = ["www.example.com", "db.example.com", "nope.example.com"]
        let replies = try await withThrowingTaskGroup(of: DNSMessage.self) { tasks in
            for round in 0..<10 {
                for name in names {
                    let query = try query(name, id: UInt16(round))
                    tasks.addTask { try DNSMessage(decoding: try await forwarder.resolve(query, udpLimit: 1232)) }
                }
            }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(replies.count, 30)
        XCTAssertEqual(replies.filter { $0.answerLines == ["www.example.com. A 93.184.216.34"] }.count, 10)
        XCTAssertEqual(replies.filter { $0.answerLines == ["db.example.com. A 10.20.30.40"] }.count, 10)
        XCTAssertEqual(replies.filter { $0.responseCode == .nxDomain }.count, 10)
        XCTAssertEqual(forwarder.connections.openedCount, 1)
        forwarder.connections.close()
    }
}

/// A TCP upstream that counts connections and the queries they carry, and answers each query
/// (its header with QR set and its question) once `answerAfter` are waiting, newest first.
private final class FramedUpstream: Sendable {
    struct Received: Sendable {
        var id: UInt16
        var bytes: [UInt8]
    }

    private struct State {
        var accepted = 0
        var received: [Received] = []
        var waiting: [(any Channel, [UInt8])] = []
        var threshold: Int
        var children: [any Channel] = []
    }

    let channel: any Channel
    let address: SocketAddress
    private let state: NIOLockedValueBox<State>

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
        address = channel.localAddress!
    }

    var accepted: Int { state.withLockedValue { $0.accepted } }
    var received: [Received] { state.withLockedValue { $0.received } }

    func answerAfter(_ count: Int) { state.withLockedValue { $0.threshold = count } }

    func closeConnections() {
        for child in state.withLockedValue({ $0.children }) { child.close(promise: nil) }
    }

    static func start(group: any EventLoopGroup, answerAfter: Int) async throws -> FramedUpstream {
        let state = NIOLockedValueBox(State(threshold: answerAfter))
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                state.withLockedValue {
                    $0.accepted += 1
                    $0.children.append(child)
                }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try child.pipeline.syncOperations.addHandler(Answerer(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FramedUpstream(channel: channel, state: state)
    }

    private final class Answerer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let query = Array(unwrapInboundIn(data).readableBytesView)
            let channel = context.channel
            let ready = state.withLockedValue { state -> [(any Channel, [UInt8])] in
                state.received.append(Received(id: UInt16(query[0]) << 8 | UInt16(query[1]), bytes: query))
                state.waiting.append((channel, query))
                guard state.waiting.count >= state.threshold else { return [] }
                defer { state.waiting = [] }
                return state.waiting.reversed()
            }
            for (channel, query) in ready {
                var reply = query
                reply[2] |= 0x80  // QR
                var framed = channel.allocator.buffer(capacity: reply.count + 2)
                framed.writeInteger(UInt16(reply.count))
                framed.writeBytes(reply)
                channel.writeAndFlush(framed, promise: nil)
            }
        }
    }
}
