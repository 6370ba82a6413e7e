#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking DNS client on plain sockets for tests: one request, one reply, bounded by a
/// timeout. Independent of SwiftNIO so server bugs cannot cancel out.
public enum DNSTestClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Sends `query` over UDP to 127.0.0.1:`port`; nil when nothing arrives within `timeout`.
    public static func udp(_ query: [UInt8], port: Int, host: String = "127.0.0.1", timeout: Double = 3) throws -> [UInt8]? {
        let fd = try connectedSocket(type: Int32(SOCK_DGRAM.rawValue), host: host, port: port, timeout: timeout)
        defer { close(fd) }
        guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else {
            throw Failure(description: "send failed: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return received < 0 ? nil : Array(buffer.prefix(received))
    }

    /// Sends `query` over TCP with the two-byte length prefix and reads one framed reply.
    public static func tcp(_ query: [UInt8], port: Int, host: String = "127.0.0.1", timeout: Double = 3) throws -> [UInt8]? {
        let stream = try TCPStream(port: port, host: host, timeout: timeout)
        try stream.send(frame: query)
        return stream.receiveFrame()
    }

    /// One TCP connection carrying length-framed messages (RFC 1035 §4.2.2).
    public final class TCPStream {
        private let fd: Int32

        public init(port: Int, host: String = "127.0.0.1", timeout: Double = 3) throws {
            fd = try connectedSocket(type: Int32(SOCK_STREAM.rawValue), host: host, port: port, timeout: timeout)
        }

        deinit { close(fd) }

        public func send(frame message: [UInt8]) throws {
            try send(raw: [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message)
        }

        /// Bytes as they are, for tests that split or join frames themselves.
        public func send(raw bytes: [UInt8]) throws {
            guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
                throw Failure(description: "send failed: \(String(cString: strerror(errno)))")
            }
        }

        /// The next framed message, or nil on timeout or close.
        public func receiveFrame() -> [UInt8]? {
            guard let prefix = receive(2) else { return nil }
            return receive(Int(prefix[0]) << 8 | Int(prefix[1]))
        }

        private func receive(_ count: Int) -> [UInt8]? {
            var result = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let received = result.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
                guard received > 0 else { return nil }
                filled += received
            }
            return result
        }
    }

    fileprivate static func connectedSocket(type: Int32, host: String, port: Int, timeout: Double) throws -> Int32 {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// A port that was free a moment ago on 127.0.0.1 for both UDP and TCP.
    public static func freePort() throws -> Int {
        for _ in 0..<20 {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(udp, $0, length)
                    return getsockname(udp, $0, &length)
                }
            }
            close(udp)
            let port = Int(UInt16(bigEndian: address.sin_port))
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(tcp)
            if bound == 0 { return port }
        }
        throw Failure(description: "no free port found")
    }
}
