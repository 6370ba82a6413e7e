import ClusterRegistry
import DNSServer
import DNSTestSupport
import DNSWire
import NIOCore
import NIOPosix
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `/health`, `/ready` and the SIGTERM lameduck (CoreDNS's `health` and `ready` plugins), in
/// process: the signal itself is fed through the stream `ShutdownSignals.install()` would deliver
/// (LameduckTests in EndToEndTests sends real signals to the binary).
final class HealthServerTests: XCTestCase {
    private let loopback = HostPort(host: "127.0.0.1", port: 0)
    /// Another loopback address, so that two port-0 endpoints are not equal (equal ones share).
    private let loopback2 = HostPort(host: "127.0.0.2", port: 0)
    private var groups: [MultiThreadedEventLoopGroup] = []

    override func tearDown() async throws {
        for group in groups { try await group.shutdownGracefully() }
        groups = []
    }

    private func makeGroup() -> MultiThreadedEventLoopGroup {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        groups.append(group)
        return group
    }

    private func start(
        health: HostPort?, ready: HostPort?, readiness: Readiness,
        group: (any EventLoopGroup)? = nil, monitoring: (any EventLoopGroup)? = nil,
        deadline: TimeAmount = .seconds(1)
    ) async throws -> HealthServer {
        try await HealthServer.start(
            configuration: HealthConfiguration(health: health, ready: ready, livenessDeadline: deadline),
            readiness: readiness, group: group ?? makeGroup(), monitoring: monitoring)
    }

    func testHealthReadyAndUnknownPathsOnSeparateListeners() async throws {
        let readiness = Readiness()
        let probes = try await start(
            health: loopback, ready: loopback2, readiness: readiness)
        XCTAssertEqual(probes.channels.count, 2)
        let health = try XCTUnwrap(probes.healthAddress?.port), ready = try XCTUnwrap(probes.readyAddress?.port)
        XCTAssertNotEqual(health, ready)

        let alive = try HTTPProbe.get("/health", port: health)
        XCTAssertEqual(alive.status, 200)
        XCTAssertEqual(alive.body, "OK")
        XCTAssertEqual(alive.headers["content-type"], "text/plain; charset=utf-8")

        let before = try HTTPProbe.get("/ready", port: ready, host: "127.0.0.2")
        XCTAssertEqual(before.status, 503, "not ready before the first load")
        XCTAssertTrue(before.body.contains("waiting for the first registry load"), before.body)
        readiness.markReady()
        let after = try HTTPProbe.get("/ready", port: ready, host: "127.0.0.2")
        XCTAssertEqual(after.status, 200)
        XCTAssertEqual(after.body, "OK")
        let withQuery = try HTTPProbe.get("/ready?verbose", port: ready, host: "127.0.0.2")
        XCTAssertEqual(withQuery.status, 200, "a query string is ignored")

        // Each listener serves only its own path, like CoreDNS's two plugins.
        XCTAssertEqual(try HTTPProbe.get("/ready", port: health).status, 404)
        XCTAssertEqual(try HTTPProbe.get("/health", port: ready, host: "127.0.0.2").status, 404)
        let unknown = try HTTPProbe.get("/metrics", port: health)
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.body, "404 page not found\n")
        XCTAssertEqual(try HTTPProbe.get("/", port: ready, host: "127.0.0.2").status, 404)
        XCTAssertEqual(try HTTPProbe.get("/healthz", port: health).status, 404)
        await probes.close()
    }

    func testHeadAnswersWithoutBodyAndOtherMethodsAreRefused() async throws {
        let readiness = Readiness()
        let probes = try await start(health: loopback, ready: loopback, readiness: readiness)
        let port = try XCTUnwrap(probes.healthAddress?.port)
        let head = try HTTPProbe.request("HEAD", "/health", port: port)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, "", "HEAD has no body")
        XCTAssertEqual(head.headers["content-length"], "2", "but advertises GET's")
        let notReady = try HTTPProbe.request("HEAD", "/ready", port: port)
        XCTAssertEqual(notReady.status, 503)
        XCTAssertEqual(notReady.body, "")

        let post = try HTTPProbe.request("POST", "/health", port: port)
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "GET, HEAD")
        XCTAssertEqual(try HTTPProbe.request("DELETE", "/ready", port: port).status, 405)
        // HTTP/1.0 (no Host header) is fine too: some probes still speak it.
        XCTAssertEqual(try HTTPProbe.request("GET", "/health", port: port, version: "HTTP/1.0").status, 200)
        await probes.close()
    }

    func testEqualAddressesShareOneListener() async throws {
        let readiness = Readiness()
        readiness.markReady()
        let probes = try await start(health: loopback, ready: loopback, readiness: readiness)
        XCTAssertEqual(probes.channels.count, 1)
        XCTAssertEqual(probes.healthAddress, probes.readyAddress)
        let port = try XCTUnwrap(probes.healthAddress?.port)
        XCTAssertEqual(try HTTPProbe.get("/health", port: port).status, 200)
        XCTAssertEqual(try HTTPProbe.get("/ready", port: port).status, 200)
        XCTAssertEqual(try HTTPProbe.get("/other", port: port).status, 404)
        await probes.close()
    }

    func testAnEndpointCanBeSwitchedOff() async throws {
        let probes = try await start(health: nil, ready: loopback, readiness: Readiness())
        XCTAssertEqual(probes.channels.count, 1)
        XCTAssertNil(probes.healthAddress)
        let port = try XCTUnwrap(probes.readyAddress?.port)
        XCTAssertEqual(try HTTPProbe.get("/ready", port: port).status, 503)
        XCTAssertEqual(try HTTPProbe.get("/health", port: port).status, 404)
        await probes.close()
    }

    func testBindFailureNamesTheAddressAndPath() async throws {
        let first = try await start(health: loopback, ready: nil, readiness: Readiness())
        let taken = HostPort(host: "127.0.0.1", port: try XCTUnwrap(first.healthAddress?.port))
        do {
            _ = try await start(health: nil, ready: taken, readiness: Readiness())
            XCTFail("bound a port already in use")
        } catch let error as HealthServerError {
            XCTAssertTrue(error.description.contains("/ready on \(taken)"), error.description)
        }
        await first.close()
    }

    /// A loop stuck in a blocking call fails liveness (so kubelet restarts the pod), and
    /// recovers when the loop runs again.
    func testHealthFailsWhileAMonitoredEventLoopIsBlocked() async throws {
        let dnsLoops = makeGroup()
        let probes = try await start(
            health: loopback, ready: nil, readiness: Readiness(), monitoring: dnsLoops, deadline: .milliseconds(200))
        let port = try XCTUnwrap(probes.healthAddress?.port)
        XCTAssertEqual(try HTTPProbe.get("/health", port: port).status, 200)
        let blocked = dnsLoops.next().submit { usleep(1_500_000) }
        let started = Date()
        let stuck = try HTTPProbe.get("/health", port: port)
        XCTAssertEqual(stuck.status, 503)
        XCTAssertEqual(stuck.body, "event loops unresponsive\n")
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.2, "answered at the deadline, not when the loop woke")
        _ = try await blocked.get()
        XCTAssertEqual(try HTTPProbe.get("/health", port: port).status, 200)
        await probes.close()
    }

    func testReadinessStateMachine() {
        let readiness = Readiness(notReadyReason: "waiting for the first sync")
        XCTAssertFalse(readiness.isReady)
        XCTAssertEqual(readiness.notReadyReason, "waiting for the first sync")
        readiness.markReady()
        XCTAssertTrue(readiness.isReady)
        readiness.markNotReady("watch lost")
        XCTAssertEqual(readiness.notReadyReason, "watch lost")
        readiness.markReady()
        readiness.enterLameduck()
        XCTAssertFalse(readiness.isReady)
        XCTAssertTrue(readiness.isInLameduck)
        readiness.markReady()  // e.g. a reload finishing during lameduck
        XCTAssertFalse(readiness.isReady, "lameduck is final")
        readiness.markNotReady("x")
        XCTAssertTrue(readiness.isInLameduck)
    }

    // MARK: - Lameduck

    private struct Running {
        let fixture: ServerFixture
        let probes: HealthServer
        let readiness: Readiness
        let signals: AsyncStream<ShutdownSignal>.Continuation
        let serving: Task<Void, Never>
        var readyPort: Int { probes.readyAddress?.port ?? 0 }
        var healthPort: Int { probes.healthAddress?.port ?? 0 }
    }

    private func serve(lameduck: Duration) async throws -> Running {
        let service = Service(name: "web", namespace: "shop", kind: .clusterIP([IPAddress("10.0.0.7")!]))
        let fixture = try await ServerFixture(objects: [.service(service)])
        let readiness = Readiness()
        readiness.markReady()
        let probes = try await start(
            health: loopback, ready: loopback2, readiness: readiness,
            group: fixture.group)
        let (stream, continuation) = AsyncStream.makeStream(of: ShutdownSignal.self)
        let server = fixture.server
        let serving = Task {
            await Lameduck(duration: lameduck).serve(dns: server, probes: probes, readiness: readiness, signals: stream)
        }
        return Running(
            fixture: fixture, probes: probes, readiness: readiness, signals: continuation, serving: serving)
    }

    private func assertAnswers(_ running: Running, file: StaticString = #filePath, line: UInt = #line) async throws {
        for tcp in [false, true] {
            let reply = try await running.fixture.ask("web.shop.svc.cluster.local", .a, tcp: tcp, file: file, line: line)
            XCTAssertEqual(reply.answerLines, ["web.shop.svc.cluster.local. A 10.0.0.7"], file: file, line: line)
        }
    }

    func testTerminateFailsReadinessAtOnceKeepsAnsweringThenCloses() async throws {
        let lameduck = 1.5
        let running = try await serve(lameduck: .milliseconds(Int64(lameduck * 1000)))
        XCTAssertEqual(try HTTPProbe.get("/ready", port: running.readyPort, host: "127.0.0.2").status, 200)
        try await assertAnswers(running)

        let signalled = Date()
        running.signals.yield(.terminate)
        let flipped = Polling.poll(seconds: 1) {
            (try? HTTPProbe.get("/ready", port: running.readyPort, host: "127.0.0.2").status) == 503
        }
        XCTAssertTrue(flipped, "/ready still 200 after SIGTERM")
        let ready = try HTTPProbe.get("/ready", port: running.readyPort, host: "127.0.0.2")
        XCTAssertTrue(ready.body.contains("lameduck"), ready.body)
        // During lameduck: DNS over UDP and TCP still answered, liveness still passes.
        try await assertAnswers(running)
        XCTAssertEqual(try HTTPProbe.get("/health", port: running.healthPort).status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), lameduck, "checks must run inside the lameduck window")

        await running.serving.value
        XCTAssertGreaterThanOrEqual(
            Date().timeIntervalSince(signalled), lameduck - 0.05, "closed before lameduck ended")
        let query = DNSMessage(questions: [DNSQuestion(name: try DomainName("web.shop.svc.cluster.local"), type: .a)])
        let late = try? DNSTestClient.udp(query.encoded(), port: running.fixture.port, timeout: 0.3)
        XCTAssertNil(late, "answered after lameduck")
        XCTAssertThrowsError(try HTTPProbe.get("/health", port: running.healthPort), "probe listener still open")
        try await running.fixture.shutdown()
    }

    func testInterruptShutsDownWithoutLameduck() async throws {
        let running = try await serve(lameduck: .seconds(30))
        let signalled = Date()
        running.signals.yield(.interrupt)
        await running.serving.value
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 3)
        XCTAssertTrue(running.readiness.isInLameduck)
        try await running.fixture.shutdown()
    }

    func testSecondSignalCutsLameduckShort() async throws {
        let running = try await serve(lameduck: .seconds(30))
        let signalled = Date()
        running.signals.yield(.terminate)
        XCTAssertTrue(Polling.poll(seconds: 1) { !running.readiness.isReady })
        try await assertAnswers(running)
        running.signals.yield(.terminate)
        await running.serving.value
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 3)
        try await running.fixture.shutdown()
    }

    func testListenersClosingEndServingWithoutASignal() async throws {
        let running = try await serve(lameduck: .seconds(30))
        await running.fixture.server.close()
        await running.serving.value
        XCTAssertThrowsError(
            try HTTPProbe.get("/ready", port: running.readyPort, host: "127.0.0.2"), "probe listener still open")
        XCTAssertFalse(running.readiness.isInLameduck)
        try await running.fixture.shutdown()
    }
}

/// Polling for the lameduck checks (a blocking loop: the server runs on its own threads).
private enum Polling {
    static func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }
}

/// A minimal blocking HTTP/1.1 client over a plain socket: one request, read until the server
/// closes (the probe server always closes after its reply).
enum HTTPProbe {
    struct Response {
        var status: Int
        var headers: [String: String]  // lowercased names
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func get(_ path: String, port: Int, host: String = "127.0.0.1") throws -> Response {
        try request("GET", path, port: port, host: host)
    }

    static func request(
        _ method: String, _ path: String, port: Int, host: String = "127.0.0.1", version: String = "HTTP/1.1"
    ) throws -> Response {
        let descriptor = try connect(host: host, port: port)
        defer { close(descriptor) }
        let hostHeader = version == "HTTP/1.1" ? "Host: \(host):\(port)\r\n" : ""
        let text = "\(method) \(path) \(version)\r\n\(hostHeader)User-Agent: kube-probe/1.33\r\nAccept: */*\r\n\r\n"
        let request = Array(text.utf8)
        let sent = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { throw Failure(description: "send: errno \(errno)") }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes") }
            received += chunk.prefix(count)
        }
        return try parse(String(decoding: received, as: UTF8.self))
    }

    private static func parse(_ text: String) throws -> Response {
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no header end in \(text)") }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "bad status line \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[line[..<colon].lowercased()] = value
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    private static func connect(host: String, port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure(description: "connect to \(host):\(port): errno \(errno)")
        }
        return descriptor
    }
}
