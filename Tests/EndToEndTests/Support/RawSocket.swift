#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected IPv4 UDP or TCP socket for sending hand-made bytes (no DNS library involved).
final class RawSocket {
    enum Kind {
        case udp, tcp
    }

    private let descriptor: Int32

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(_ kind: Kind, host: String, port: Int) throws {
        descriptor = try Self.open(kind, host: host, port: port)
    }

    /// A descriptor for an IPv4 socket connected to `host:port`, bound first to `source` (any
    /// port) when given, so a test can speak as several clients over loopback. The caller
    /// closes it.
    static func open(_ kind: Kind, host: String, port: Int, from source: String? = nil) throws -> Int32 {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32((kind == .udp ? SOCK_DGRAM : SOCK_STREAM).rawValue), 0)
        #else
        let descriptor = socket(AF_INET, kind == .udp ? SOCK_DGRAM : SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        func fail(_ description: String) -> Failure {
            close(descriptor)
            return Failure(description: description)
        }
        func address(_ host: String, _ port: Int) throws -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port)).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw fail("not an IPv4 address: \(host)") }
            return address
        }
        if let source {
            var local = try address(source, 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw fail("bind \(source): errno \(errno)") }
        }
        var remote = try address(host, port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw fail("connect: errno \(errno)") }
        return descriptor
    }

    /// Sets `descriptor`'s receive timeout.
    static func setReceiveTimeout(_ descriptor: Int32, milliseconds: Int) {
        var timeout = timeval(tv_sec: milliseconds / 1000, tv_usec: Int(milliseconds % 1000) * 1000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Half-closes a TCP connection (no more bytes from us).
    func shutdownWrite() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    func send(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { socketSend(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw Failure(description: "send: \(sent), errno \(errno)") }
    }

    /// The next datagram (or, over TCP, whatever bytes arrived) within `milliseconds`; nil on
    /// timeout, an empty array when a TCP peer closed the connection.
    func receive(timeout milliseconds: Int32) -> [UInt8]? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count >= 0 ? Array(buffer.prefix(count)) : nil
    }

    /// Discards whatever is queued (replies to earlier garbage).
    func drain() {
        while receive(timeout: 0) != nil {}
    }
}

/// `send(2)`, named apart from `UDPSocket.send(_:)`.
private func socketSend(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    send(descriptor, buffer, count, flags)
}
