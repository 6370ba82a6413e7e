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

    private static func connect(_ server: ServerProcess) -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port).bigEndian)
        address.sin_addr.s_addr = inet_addr(server.host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        return socket
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
