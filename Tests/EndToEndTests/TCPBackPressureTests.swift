import DNSWire
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Issue #11 items 2 and 3: a TCP client that sends queries and never reads the answers must
/// not grow the server's memory, and one that trickles a query byte by byte must not hold its
/// connection; the server keeps answering everyone else.
final class TCPBackPressureTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() { servers.stopAll() }

    private static func residentMiB(_ pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    /// A connection to `server`, from `source` when given (any 127/8 address is this host's);
    /// a connection from a chosen source also gives up a read after 2 s.
    private static func connect(_ server: ServerProcess, from source: String? = nil) -> Int32 {
        do {
            let socket = try RawSocket.open(.tcp, host: server.host, port: server.port, from: source)
            if source != nil { RawSocket.setReceiveTimeout(socket, milliseconds: 2_000) }
            return socket
        } catch {
            XCTFail("\(error)")
            return -1
        }
    }

    private static func answers(_ socket: Int32) -> Bool {
        var query = DNSMessage(questions: [DNSQuestion(name: try! DomainName("nginx-service.myserver.svc.cluster.local"), type: .a)])
        query.header.id = 9
        let message = query.encoded()
        let frame = [UInt8(message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
        guard send(socket, frame, frame.count, Int32(MSG_NOSIGNAL)) == frame.count else { return false }
        var reply = [UInt8](repeating: 0, count: 512)
        return recv(socket, &reply, reply.count, 0) > 2
    }

    /// Whether the server closed `socket` without a word (within 2 s).
    private static func closedByServer(_ socket: Int32) -> Bool {
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, 0) == 0
    }

    /// Issue #11 item 3: connections are capped per client and in all; one over a cap is closed
    /// at once, the held ones keep answering, a closed one frees its place, and the probe
    /// port, capped apart, answers throughout. Before, 1,100 connections took every descriptor.
    func testConnectionsAreCappedPerClientAndInAll() throws {
        let server = try servers.start(arguments: [
            "--tcp-max-connections", "5", "--tcp-max-connections-per-client", "2",
            "--health-listen", "127.0.0.1:0", "--ready-listen", "127.0.0.2:0",
        ])
        let health = try XCTUnwrap(LameduckTests.probePorts(in: server.stdout)?.health, server.stdout)
        var held: [Int32] = []
        defer { for socket in held { close(socket) } }
        // Each held connection answers before the next is opened: connections are admitted on
        // several event loops, so two opened at once may be admitted in either order.
        func hold(from source: String) {
            let socket = Self.connect(server, from: source)
            held.append(socket)
            XCTAssertTrue(Self.answers(socket), "connection \(held.count) from \(source)")
        }
        hold(from: "127.0.0.11")
        hold(from: "127.0.0.11")
        let third = Self.connect(server, from: "127.0.0.11")
        defer { close(third) }
        XCTAssertTrue(Self.closedByServer(third), "a third connection from one client was kept")

        hold(from: "127.0.0.12")
        hold(from: "127.0.0.12")
        hold(from: "127.0.0.13")
        let sixth = Self.connect(server, from: "127.0.0.14")
        defer { close(sixth) }
        XCTAssertTrue(Self.closedByServer(sixth), "a sixth connection was kept")
        XCTAssertEqual(try HTTP.get("/health", host: "127.0.0.1", port: health).status, 200)
        // UDP is not capped.
        XCTAssertEqual(try server.dig.short("nginx-service.myserver.svc.cluster.local."), ["10.100.57.113"])

        close(held.removeFirst())
        let admitted = Subprocess.poll(until: Date().addingTimeInterval(3)) {
            let socket = Self.connect(server, from: "127.0.0.14")
            if Self.answers(socket) {
                held.append(socket)
                return true
            }
            close(socket)
            return false
        }
        XCTAssertTrue(admitted, "the place of a closed connection was not given back")
    }

    /// When a cap is full, the connection idle longest makes way for a newcomer (issue #11):
    /// of a client's two connections, the one that has read nothing for over a second is closed
    /// by the server for its third, and the one in use keeps answering. (The test above: while
    /// every held connection is in use, the newcomer is refused.)
    func testTheLongestIdleConnectionMakesWayForANewcomer() throws {
        let server = try servers.start(arguments: ["--tcp-max-connections", "5", "--tcp-max-connections-per-client", "2"])
        let idle = Self.connect(server, from: "127.0.0.15"), busy = Self.connect(server, from: "127.0.0.15")
        defer { for socket in [idle, busy] { close(socket) } }
        XCTAssertTrue(Self.answers(idle))
        XCTAssertTrue(Self.answers(busy))
        Thread.sleep(forTimeInterval: 1.3)  // both idle past ConnectionLimiter.idleAfter
        XCTAssertTrue(Self.answers(busy), "in use again")
        let newcomer = Self.connect(server, from: "127.0.0.15")
        defer { close(newcomer) }
        XCTAssertTrue(Self.answers(newcomer), "the newcomer was refused")
        XCTAssertTrue(Self.closedByServer(idle), "the idle connection was kept")
        XCTAssertTrue(Self.answers(busy), "the connection in use was cut")
    }

    /// One byte every 200 ms restarts the idle timer each time; the message deadline (1 s
    /// here) still closes the connection. Before it, such a connection lived forever.
    func testATricklingClientIsClosedAtTheMessageDeadline() throws {
        let server = try servers.start(arguments: ["--tcp-message-timeout", "1"])
        let socket = Self.connect(server)
        defer { close(socket) }
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName("nginx-service.myserver.svc.cluster.local"), type: .a)])
        query.header.id = 2
        let message = query.encoded()
        let frame = [UInt8(message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
        let started = Date()
        var closed = false
        for byte in frame.dropLast() where Date().timeIntervalSince(started) < 6 {
            var one = byte
            if send(socket, &one, 1, Int32(MSG_NOSIGNAL)) < 0 {
                closed = true
                break
            }
            var peek: UInt8 = 0
            if recv(socket, &peek, 1, Int32(MSG_DONTWAIT)) == 0 {
                closed = true
                break
            }
            usleep(200_000)
        }
        XCTAssertTrue(closed, "the connection was still open after \(Date().timeIntervalSince(started)) s of trickling")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(try server.dig.short("nginx-service.myserver.svc.cluster.local.", over: .tcp), ["10.100.57.113"])
    }

    func testANonReadingClientDoesNotGrowTheServer() throws {
        let server = try servers.start()
        let pid = server.process.processIdentifier
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName("nginx-service.myserver.svc.cluster.local"), type: .a)])
        query.header.id = 1
        let message = query.encoded()
        let frame = [UInt8(message.count >> 8), UInt8(truncatingIfNeeded: message.count)] + message
        // 16 MB of queries, more than loopback socket buffers hold: before back-pressure 343 KB
        // grew the server by 246 MB.
        let burst = [UInt8]((0..<(16 << 20) / frame.count).lazy.flatMap { _ in frame })

        let socket = Self.connect(server)
        defer { close(socket) }
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)

        let before = Self.residentMiB(pid)
        // Write until the kernel takes no more (the server stopped reading) or all is sent; bounded.
        var sent = 0, stalls = 0
        while sent < burst.count, stalls < 50 {
            let written = burst[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                sent += written
                stalls = 0
            } else {
                stalls += 1
                usleep(20_000)  // give the server time to read, answer and stop reading
            }
        }
        let after = Self.residentMiB(pid)
        XCTAssertLessThan(after - before, 48, "RSS \(before) → \(after) MiB after \(sent) bytes of unread queries")
        XCTAssertLessThan(sent, burst.count, "the server stopped reading a client that does not read")
        // Everyone else is still answered.
        let answer = try server.dig.query("nginx-service.myserver.svc.cluster.local.", over: .tcp)
        XCTAssertEqual(answer.answers("A"), ["10.100.57.113"])
    }
}
