import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The pipeline takes a client as the kernel gives it (`sockaddr_storage`, what `recvmmsg`
/// fills in), so the datagram path never builds a `SocketAddress`; these convert at the edges
/// that have or need one (TCP's channel, the query log).
extension SocketAddress {
    init?(storage: sockaddr_storage) {
        var storage = storage
        let family = Int32(storage.ss_family)
        let address: SocketAddress? = withUnsafePointer(to: &storage) { pointer in
            switch family {
            case AF_INET: return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee) }
            case AF_INET6: return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee) }
            default: return nil
            }
        }
        guard let address else { return nil }
        self = address
    }

    /// The address as `sockaddr_storage`; a Unix-domain one (never a DNS client) as family 0,
    /// which no access list allows.
    var storage: sockaddr_storage {
        var storage = sockaddr_storage()
        withSockAddr { address, length in
            guard length <= MemoryLayout<sockaddr_storage>.size else { return }
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: length)) }
        }
        if storage.ss_family != sa_family_t(AF_INET), storage.ss_family != sa_family_t(AF_INET6) { storage = sockaddr_storage() }
        return storage
    }
}

extension sockaddr_storage {
    /// The length `sendto` needs for this address.
    var length: socklen_t {
        socklen_t(ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }
}

extension sockaddr_storage {
    /// Whether `other` is the same IP address and port (RFC 5452 §9.1: a reply must come from
    /// where the query went); the padding and IPv6 flow label are not compared.
    func isSameEndpoint(as other: sockaddr_storage) -> Bool {
        guard ss_family == other.ss_family else { return false }
        var (left, right) = (self, other)
        return withUnsafeBytes(of: &left) { left in
            withUnsafeBytes(of: &right) { right in
                switch Int32(ss_family) {
                case AF_INET:
                    let port = MemoryLayout<sockaddr_in>.offset(of: \sockaddr_in.sin_port)!
                    let address = MemoryLayout<sockaddr_in>.offset(of: \sockaddr_in.sin_addr)!
                    return memcmp(left.baseAddress! + port, right.baseAddress! + port, 2) == 0
                        && memcmp(left.baseAddress! + address, right.baseAddress! + address, 4) == 0
                case AF_INET6:
                    let port = MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_port)!
                    let address = MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_addr)!
                    return memcmp(left.baseAddress! + port, right.baseAddress! + port, 2) == 0
                        && memcmp(left.baseAddress! + address, right.baseAddress! + address, 16) == 0
                default:
                    return false
                }
            }
        }
    }
}
