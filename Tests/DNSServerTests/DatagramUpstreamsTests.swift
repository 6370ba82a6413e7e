import ClusterRegistry
import DNSResponder
import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

@testable import DNSServer

#if canImport(Glibc)
import Glibc
#endif

/// A datagram's miss sent and answered by the thread that received it (issue #10): a fixed
/// number of sockets under 1,000 misses in flight, identical misses from many clients sent
/// once across threads, fresh ports as sockets are used up, and replies taken only from the
/// upstream asked, for our ID and question (RFC 5452).
final class DatagramUpstreamsTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var upstream: HeldUpstream!

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        upstream = try await HeldUpstream.start(group: group)
    }

    override func tearDown() async throws {
        try? await upstream.channel.close()
        try? await group.shutdownGracefully()
    }

    private static func query(_ name: String, id: UInt16) throws -> [UInt8] {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
        message.header.id = id
        message.header[.recursionDesired] = true
        return message.encoded()
    }

    private static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    private func server(timeout: TimeAmount = .seconds(20)) async throws -> ServerFixture {
        try await ServerFixture(
            objects: [],
            resolver: ResolverSettings(upstreams: [upstream.address], policy: .sequential, timeout: timeout, cache: nil))
    }

    /// Waits (bounded) until `condition` holds.
    private func eventually(_ what: String, within seconds: Double = 10, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { return XCTFail("timed out waiting for \(what)") }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    /// 1,000 different misses in flight at once, sent over UDP: the server's descriptors grow
    /// by its threads' few upstream sockets, not with the queries; every client gets its own
    /// answer under its own ID once the upstream answers.
    func testThousandMissesInFlightUseAFixedSetOfSockets() async throws {
        let fixture = try await server()
        let client = try LoopbackClient()
        upstream.hold(until: Int.max)
        let before = Self.openDescriptors()
        for index in 0..<1000 { try client.send(Self.query("q\(index).example", id: UInt16(index)), to: fixture.port) }
        try await eventually("1,000 queries upstream") { upstream.received.count >= 1000 }
        let during = Self.openDescriptors()
        let threads = fixture.server.udpThreadCount
        // Each thread opens at most its IPv4 sockets; nothing here is retired yet.
        XCTAssertLessThanOrEqual(
            during - before, threads * DatagramUpstreams.Settings.standard.socketsPerFamily, "descriptors while 1,000 are in flight")
        XCTAssertLessThanOrEqual(
            Set(upstream.received.map(\.port)).count, threads * DatagramUpstreams.Settings.standard.socketsPerFamily)
        upstream.release()
        var answered = Set<UInt16>()
        while answered.count < 1000, let reply = client.receive(timeout: 5) {
            let message = try DNSMessage(decoding: reply)
            XCTAssertEqual(message.questions.first?.name.description, "q\(message.header.id).example.")
            XCTAssertTrue(message.header[.recursionAvailable])
            answered.insert(message.header.id)
        }
        XCTAssertEqual(answered.count, 1000)
        try await fixture.shutdown()
    }

    /// The same question from 30 clients while the first is upstream: asked upstream once,
    /// answered to each under its own ID. (With several threads, SO_REUSEPORT spreads the
    /// clients over them; the forwarder's coalescer is shared.)
    func testIdenticalMissesFromManyClientsAreSentOnce() async throws {
        let fixture = try await server()
        let forwarder = fixture.server.resolver.router.defaultForwarder
        upstream.hold(until: 1)
        let clients = try (0..<30).map { _ in try LoopbackClient() }
        for (index, client) in clients.enumerated() { try client.send(Self.query("same.example", id: UInt16(100 + index)), to: fixture.port) }
        try await upstream.waitForHeld()
        try await eventually("30 misses in flight") { forwarder.inFlightCount == 30 }
        upstream.release()
        for (index, client) in clients.enumerated() {
            let reply = try XCTUnwrap(client.receive(timeout: 5), "client \(index)")
            let message = try DNSMessage(decoding: reply)
            XCTAssertEqual(message.header.id, UInt16(100 + index))
            XCTAssertEqual(message.questions.first?.name.description, "same.example.")
        }
        XCTAssertEqual(upstream.received.count, 1)
        try await eventually("the in-flight count back to 0") { forwarder.inFlightCount == 0 }
        try await fixture.shutdown()
    }

    /// Past `--max-concurrent` a datagram's miss gets SERVFAIL at once instead of waiting
    /// (issue #11: bounded memory with a dead upstream); those admitted are answered when the
    /// upstream is, and the count returns to zero.
    func testMissesPastTheInFlightCapGetServfailAtOnce() async throws {
        let fixture = try await ServerFixture(
            objects: [],
            resolver: ResolverSettings(
                upstreams: [upstream.address], policy: .sequential, timeout: .seconds(20), maxConcurrent: 5, cache: nil))
        let forwarder = fixture.server.resolver.router.defaultForwarder
        upstream.hold(until: 5)
        let client = try LoopbackClient()
        for index in 0..<5 { try client.send(Self.query("held\(index).example", id: UInt16(index)), to: fixture.port) }
        try await upstream.waitForHeld()
        for index in 5..<10 { try client.send(Self.query("over\(index).example", id: UInt16(index)), to: fixture.port) }
        var codes: [UInt16: ResponseCode] = [:]
        while codes.count < 5, let reply = client.receive(timeout: 5) {
            let message = try DNSMessage(decoding: reply)
            codes[message.header.id] = message.responseCode
        }
        XCTAssertEqual(codes, Dictionary(uniqueKeysWithValues: (5..<10).map { (UInt16($0), ResponseCode.servFail) }))
        XCTAssertEqual(upstream.received.count, 5, "only the admitted misses went upstream")
        upstream.release()
        while codes.count < 10, let reply = client.receive(timeout: 5) {
            let message = try DNSMessage(decoding: reply)
            codes[message.header.id] = message.responseCode
        }
        XCTAssertEqual((0..<5).map { codes[UInt16($0)] }, Array(repeating: .noError, count: 5))
        try await eventually("the in-flight count back to 0") { forwarder.inFlightCount == 0 }
        try await fixture.shutdown()
    }

    /// A forged reply from another address, even with the right ID and question, is not taken
    /// (RFC 5452 §9.1): the client gets the real upstream's answer.
    func testRepliesFromAnotherAddressAreIgnored() async throws {
        let fixture = try await server()
        upstream.hold(until: 1)
        let client = try LoopbackClient()
        try client.send(Self.query("real.example", id: 4242), to: fixture.port)
        try await upstream.waitForHeld()
        let held = upstream.received[0]
        // NXDOMAIN from a stranger's socket, then the real NOERROR.
        let stranger = try await HeldUpstream.start(group: group)
        var forged = HeldUpstream.answer(to: held.bytes)
        forged[3] |= 3
        try await stranger.send(forged, to: held.source)
        try await Task.sleep(nanoseconds: 50_000_000)
        upstream.release()
        let message = try DNSMessage(decoding: try XCTUnwrap(client.receive(timeout: 5)))
        XCTAssertEqual(message.header.id, 4242)
        XCTAssertEqual(message.responseCode, .noError)
        try? await stranger.channel.close()
        try await fixture.shutdown()
    }

    /// Driven directly, as the listener does: after its share of queries a socket is replaced,
    /// so the upstream sees fresh source ports, and the replaced one closes once answered.
    func testSocketsAreReplacedAfterTheirShare() async throws {
        upstream.answerAtOnce()
        let forwarder = Forwarder(upstreams: [upstream.address], timeout: .seconds(5), group: group)
        let upstreams = DatagramUpstreams(settings: .init(socketsPerFamily: 1, queriesPerSocket: 3)) { _, _, _ in }
        defer { upstreams.close() }
        for index in 0..<10 {
            let request = try Self.query("r\(index).example", id: UInt16(index))
            let miss = try Self.miss(request, forwarder: forwarder)
            var replies: [[UInt8]] = []
            let start = upstreams.start(miss, accounting: Self.accounting(request), now: MonotonicClock.nanoseconds()) { reply, _ in
                replies.append(Array(reply))
            }
            guard case .waiting = start else { return XCTFail("sent by the thread itself") }
            upstreams.flush()
            Self.read(upstreams, until: { !replies.isEmpty }) { replies.append(Array($0)) }
            upstreams.expire(now: MonotonicClock.nanoseconds())
            XCTAssertEqual(replies.count, 1, "query \(index)")
            XCTAssertEqual(replies.first.map { Array($0[0..<2]) }, [0, UInt8(index)], "the client's ID back")
            XCTAssertLessThanOrEqual(upstreams.openSocketCount, 1, "the replaced socket closed once answered")
        }
        XCTAssertEqual(Set(upstream.received.map(\.port)).count, 4, "\(upstream.received.map(\.port))")
        XCTAssertEqual(forwarder.inFlightCount, 0)
    }

    /// An answered exchange's deadline stays queued; when a later exchange gets the same socket
    /// and ID (forced here: every ID is 0), that old deadline must not time the new one out.
    /// The clock is passed in, so no test time passes.
    func testAnAnsweredExchangesDeadlineDoesNotExpireItsIDsNextUse() async throws {
        upstream.answerAtOnce()
        let forwarder = Forwarder(upstreams: [upstream.address], timeout: .milliseconds(300), group: group)
        let zeros = RandomIDs { bytes in
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            return true
        }
        let lateDeliveries = NIOLockedValueBox(0)
        let upstreams = DatagramUpstreams(settings: .init(socketsPerFamily: 1), ids: zeros) { _, _, _ in
            lateDeliveries.withLockedValue { $0 += 1 }
        }
        defer { upstreams.close() }
        let start = MonotonicClock.nanoseconds(), millisecond: UInt64 = 1_000_000
        var replies: [[UInt8]] = []
        let first = try Self.query("first.example", id: 1)
        _ = upstreams.start(try Self.miss(first, forwarder: forwarder), accounting: Self.accounting(first), now: start) { _, _ in }
        upstreams.flush()
        Self.read(upstreams, until: { !replies.isEmpty }) { replies.append(Array($0)) }
        XCTAssertEqual(replies.count, 1, "the first exchange answered")

        let second = try Self.query("second.example", id: 2)
        _ = upstreams.start(
            try Self.miss(second, forwarder: forwarder), accounting: Self.accounting(second), now: start + 200 * millisecond) { _, _ in }
        upstreams.flush()
        try await eventually("the second query upstream") { upstream.received.count == 2 }
        XCTAssertEqual(upstream.received.map { Array($0.bytes[0..<2]) }, [[0, 0], [0, 0]], "both under ID 0 on one socket")
        // Past the first exchange's deadline, before the second's.
        upstreams.expire(now: start + 350 * millisecond)
        XCTAssertTrue(upstreams.isWaiting, "the second exchange still waits for its reply")
        Self.read(upstreams, until: { replies.count == 2 }) { replies.append(Array($0)) }
        let message = try DNSMessage(decoding: try XCTUnwrap(replies.last))
        XCTAssertEqual(message.header.id, 2)
        XCTAssertEqual(message.questions.first?.name.description, "second.example.")
        XCTAssertEqual(lateDeliveries.withLockedValue { $0 }, 0, "nothing failed over")
    }

    /// Answered exchanges' deadline entries do not pile up: 3,000 exchanges answered one after
    /// another leave the queue bounded, not 3,000 long.
    func testAnsweredDeadlinesDoNotAccumulate() async throws {
        upstream.answerAtOnce()
        let forwarder = Forwarder(upstreams: [upstream.address], timeout: .seconds(30), group: group)
        let upstreams = DatagramUpstreams(settings: .init(socketsPerFamily: 1, queriesPerSocket: 10_000)) { _, _, _ in }
        defer { upstreams.close() }
        var answered = 0
        for index in 0..<3_000 {
            let request = try Self.query("d\(index).example", id: UInt16(index))
            _ = upstreams.start(
                try Self.miss(request, forwarder: forwarder), accounting: Self.accounting(request), now: MonotonicClock.nanoseconds()
            ) { _, _ in }
            upstreams.flush()
            Self.read(upstreams, until: { answered > index }) { _ in answered += 1 }
        }
        XCTAssertEqual(answered, 3_000)
        XCTAssertLessThanOrEqual(upstreams.deadlineCount, 1_025)
    }

    /// Polls `upstreams`' sockets and hands each reply read to `take` until `done` (at most 5 s).
    private static func read(
        _ upstreams: DatagramUpstreams, until done: () -> Bool, take: (UnsafeRawBufferPointer) -> Void
    ) {
        let deadline = Date().addingTimeInterval(5)
        while !done(), Date() < deadline {
            var descriptors: [pollfd] = []
            upstreams.appendDescriptors(to: &descriptors)
            guard poll(&descriptors, nfds_t(descriptors.count), 100) > 0 else { continue }
            for descriptor in descriptors where descriptor.revents != 0 {
                upstreams.receive(from: descriptor.fd) { reply, _ in take(reply) }
            }
        }
    }

    /// Query IDs are drawn from the kernel's generator: 1,000 of them are nearly all distinct.
    func testQueryIDsAreUnpredictable() {
        var ids = RandomIDs()
        let drawn = (0..<1000).map { _ in ids.next() }
        // Birthday bound: about 7.6 repeats are expected among 1,000 draws of 65,536 values.
        XCTAssertGreaterThan(Set(drawn).count, 960)
        XCTAssertGreaterThan(Set(drawn.map { $0 >> 8 }).count, 200, "high bytes vary too")
    }

    private static func miss(_ request: [UInt8], forwarder: Forwarder) throws -> ForwardedMiss {
        let questionEnd = try XCTUnwrap(UpstreamExchange.questionEnd(request))
        let name = Array(request[DNSHeader.byteCount..<questionEnd - 4]).map(DomainName.lowercase)
        let key = ResponseCache.Key(name: name, type: .a, recordClass: .in, edns: false, dnssecOK: false, checkingDisabled: false)
        return ForwardedMiss(
            forwarder: forwarder, request: request, key: key, questionEnd: questionEnd, udpLimit: 512, sizeLimit: 512, cache: nil,
            responder: Responder())
    }

    private static func accounting(_ request: [UInt8]) -> QueryPipeline.Pending {
        QueryPipeline.Pending(questionType: 1, requestBytes: request.count, client: sockaddr_storage(), started: nil, logged: nil)
    }
}

/// A UDP client socket on loopback with room for 1,000 replies.
private final class LoopbackClient {
    let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var buffer: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8], to port: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == bytes.count else { throw POSIXError(.EIO) }
    }

    /// The next datagram, or nil after `timeout` seconds of silence.
    func receive(timeout: Double) -> [UInt8]? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[..<count]) : nil
    }
}
