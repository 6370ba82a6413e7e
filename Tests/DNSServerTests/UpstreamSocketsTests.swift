import DNSServer
import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

@testable import DNSServer

/// The forwarder's shared upstream sockets (issue #10): a fixed number of file descriptors
/// however many queries are in flight, fresh random ports as sockets are used up, identical
/// questions sent once, and replies matched by source, ID and question (RFC 5452).
final class UpstreamSocketsTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var upstream: HeldUpstream!

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        upstream = try await HeldUpstream.start(group: group)
    }

    override func tearDown() async throws {
        try? await upstream.channel.close()
        try? await group.shutdownGracefully()
    }

    private func query(_ name: String, id: UInt16) throws -> [UInt8] {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
        message.header.id = id
        return message.encoded()
    }

    private static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    /// 1,000 different questions in flight at once leave from the pool's few sockets; the
    /// replies that come back go to their own clients under their own IDs.
    func testThousandQueriesInFlightShareAFixedPool() async throws {
        let forwarder = Forwarder(upstreams: [upstream.address], timeout: .seconds(5), group: group, maxInFlight: 2000)
        let before = Self.openDescriptors()
        upstream.hold(until: Int.max)
        let replies = await withTaskGroup(of: (UInt16, [UInt8]?).self) { tasks in
            for index in 0..<1000 {
                guard let request = try? query("q\(index).example", id: UInt16(index)) else { continue }
                tasks.addTask { (UInt16(index), try? await forwarder.resolve(request, udpLimit: 1232)) }
            }
            while forwarder.inFlightCount < 1000 || upstream.received.count < 100 { await Task.yield() }
            let during = Self.openDescriptors()
            XCTAssertLessThanOrEqual(during - before, UpstreamSockets.defaultSocketCount + 2, "descriptors while 1,000 are in flight")
            upstream.release()
            var replies: [UInt16: [UInt8]] = [:]
            for await (id, reply) in tasks { replies[id] = reply }
            return replies
        }
        XCTAssertGreaterThanOrEqual(replies.count, 100, "answered")
        for (id, reply) in replies {
            let message = try DNSMessage(decoding: reply)
            XCTAssertEqual(message.header.id, id)
            XCTAssertEqual(message.questions.first?.name.description, "q\(id).example.")
        }
        forwarder.sockets.close()
    }

    /// Identical requests in flight together reach the upstream once; every client gets the
    /// answer under its own ID.
    func testIdenticalQuestionsAreSentOnce() async throws {
        let forwarder = Forwarder(upstreams: [upstream.address], timeout: .seconds(20), group: group)
        upstream.hold(until: 1)
        let ids = try await withThrowingTaskGroup(of: UInt16.self) { tasks in
            for id in UInt16(1)...50 {
                let request = try query("same.example", id: id)
                tasks.addTask { try DNSMessage(decoding: try await forwarder.resolve(request, udpLimit: 1232)).header.id }
            }
            try await upstream.waitForHeld()
            // The others join the first while it waits.
            while forwarder.inFlightCount < 50 { await Task.yield() }
            upstream.release()
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(ids), Set(UInt16(1)...50))
        XCTAssertEqual(upstream.received.count, 1)
        forwarder.sockets.close()
    }

    /// A socket is replaced after its share of queries: the upstream sees new source ports.
    func testSocketsRotateToFreshPorts() async throws {
        let sockets = UpstreamSockets(group: group, socketCount: 1, queriesPerSocket: 3, retireAfter: .seconds(1))
        upstream.answerAtOnce()
        for index in 0..<10 {
            _ = try await sockets.exchange(try query("r\(index).example", id: 7), with: upstream.address, timeout: .seconds(5)).get()
        }
        XCTAssertEqual(sockets.openedCount, 4)
        XCTAssertGreaterThanOrEqual(Set(upstream.received.map(\.port)).count, 3, "\(upstream.received.map(\.port))")
        sockets.close()
    }

    /// A 3,000-byte upstream reply arrives whole (it was cut at 2,048 bytes and relayed with
    /// TC clear); for a client that takes only 512 bytes it becomes a TC reply with the
    /// question alone (issue #11 item 6).
    func testLargeRepliesArriveWholeAndAreTruncatedForSmallClients() async throws {
        let forwarder = Forwarder(upstreams: [upstream.address], timeout: .seconds(5), group: group)
        upstream.answerAtOnce(padding: 3000)
        let request = try query("large.example", id: 77)
        let whole = try await forwarder.resolve(request, udpLimit: 4096)
        XCTAssertEqual(whole.count, request.count + 3000)
        XCTAssertEqual(whole[2] & 0x02, 0, "TC clear")
        var small = try query("small.example", id: 78)
        small[2] &= ~0x01  // no RD: a different request, not coalesced with anything
        let truncated = try DNSMessage(decoding: try await forwarder.resolve(small, udpLimit: 512))
        XCTAssertTrue(truncated.header[.truncated])
        XCTAssertEqual(truncated.header.id, 78)
        XCTAssertEqual(truncated.answers.count, 0)
        XCTAssertEqual(truncated.questions.first?.name.description, "small.example.")
        forwarder.sockets.close()
    }

    /// Replies from another address, or for another question, are not taken (RFC 5452 §9.1).
    func testRepliesFromElsewhereOrForOtherQuestionsAreIgnored() async throws {
        let sockets = UpstreamSockets(group: group, socketCount: 1, retireAfter: .seconds(1))
        upstream.hold(until: 1)
        let request = try query("real.example", id: 9), address = upstream.address!
        async let reply = sockets.exchange(request, with: address, timeout: .seconds(10)).get()
        try await upstream.waitForHeld()
        let held = upstream.received[0]
        // The same ID and question from a stranger's socket, then our upstream with another question.
        let stranger = try await HeldUpstream.start(group: group)
        try await stranger.send(HeldUpstream.answer(to: held.bytes), to: held.source)
        var wrongQuestion = try query("fake.example", id: UInt16(held.bytes[0]) << 8 | UInt16(held.bytes[1]))
        wrongQuestion[2] |= 0x80
        try await upstream.send(wrongQuestion, to: held.source)
        upstream.release()
        let message = try DNSMessage(decoding: try await reply)
        XCTAssertEqual(message.questions.first?.name.description, "real.example.")
        XCTAssertEqual(stranger.received.count, 0)
        try? await stranger.channel.close()
        sockets.close()
    }
}

/// A UDP upstream on loopback that records queries and answers them (header and question
/// echoed with QR set) at once or when released.
final class HeldUpstream: Sendable {
    struct Received: Sendable {
        var bytes: [UInt8]
        var source: SocketAddress
        var port: Int { source.port ?? 0 }
    }

    private struct State {
        var padding = 0
        var received: [Received] = []
        var holdUntil: Int? = nil
        var held: [Received] = []
        var heldWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let channel: any Channel
    private let state: NIOLockedValueBox<State>

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
    }

    var address: SocketAddress! { channel.localAddress }
    var received: [Received] { state.withLockedValue { $0.received } }

    static func start(group: any EventLoopGroup) async throws -> HeldUpstream {
        let state = NIOLockedValueBox(State())
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(state: state)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HeldUpstream(channel: channel, state: state)
    }

    static func answer(to query: [UInt8]) -> [UInt8] {
        var reply = query
        reply[2] |= 0x80
        return reply
    }

    /// Answers as queries arrive, `padding` bytes longer than the query.
    func answerAtOnce(padding: Int = 0) {
        state.withLockedValue { state in
            state.holdUntil = nil
            state.padding = padding
        }
    }

    /// Holds every query until `count` have arrived (then `waitForHeld` returns) and `release`.
    func hold(until count: Int) { state.withLockedValue { $0.holdUntil = count } }

    func waitForHeld() async throws {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> Bool in
                if let until = state.holdUntil, state.held.count >= until { return true }
                state.heldWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func release() {
        let held = state.withLockedValue { state in
            defer {
                state.held = []
                state.holdUntil = nil
            }
            return state.held
        }
        for query in held { channel.writeAndFlush(AddressedEnvelope(remoteAddress: query.source, data: ByteBuffer(bytes: Self.answer(to: query.bytes))), promise: nil) }
    }

    func send(_ bytes: [UInt8], to destination: SocketAddress) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: ByteBuffer(bytes: bytes))).get()
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let query = Received(bytes: Array(envelope.data.readableBytesView), source: envelope.remoteAddress)
            guard query.bytes.count >= 12, query.bytes[2] & 0x80 == 0 else { return }
            let padding = state.withLockedValue { $0.padding }
            let (answerNow, waiters) = state.withLockedValue { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                state.received.append(query)
                guard let until = state.holdUntil else { return (true, []) }
                state.held.append(query)
                guard state.held.count >= until else { return (false, []) }
                defer { state.heldWaiters = [] }
                return (false, state.heldWaiters)
            }
            for waiter in waiters { waiter.resume() }
            if answerNow {
                context.writeAndFlush(
                    NIOAny(AddressedEnvelope(
                        remoteAddress: query.source,
                        data: ByteBuffer(bytes: HeldUpstream.answer(to: query.bytes) + [UInt8](repeating: 0, count: padding)))),
                    promise: nil)
            }
        }
    }
}
