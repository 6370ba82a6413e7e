import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Replies leave as atomic datagrams (RFC 6864 §4.1: DF set, never fragmented), so the kernel
/// gives them an IP ID of 0 instead of computing one per packet.
///
/// A UDP socket's default (`IP_PMTUDISC_WANT`) already sets DF on every datagram that fits the
/// path, but lets the kernel fragment a larger one, so it must pick an ID that could identify
/// fragments: a hash and an atomic counter per packet (`__ip_select_ident`), 2 % of a cache
/// hit's CPU in the profile (issue #10). With `IP_PMTUDISC_DO` nothing on the wire changes
/// for a datagram that fits; a larger one is refused with EMSGSIZE instead, and
/// `sendAllowingFragments` sends that one as before. Our UDP replies are at most 1,232 bytes
/// (`ResponderOptions.maxUDPPayload`), so that takes a path MTU under 1,260 bytes. RFC 9715
/// (IP fragmentation avoidance in DNS over UDP) asks responders for DF in the first place.
enum AtomicDatagrams {
    /// Sets DF on everything `fd` (an IPv4 UDP socket) sends. IPv6 headers carry no ID, and
    /// IPv6 is never fragmented on the way: IPv6 sockets are left as they are.
    static func enable(_ fd: Int32, family: Int32) {
        guard family == AF_INET else { return }
        set(fd, IP_PMTUDISC_DO)
    }

    /// Sends `message` on `fd` with fragmenting allowed for this one datagram: the socket is
    /// switched back to the default for it. A lock keeps two such sends (on two threads) from
    /// switching it back under each other; other sends meanwhile merely go out as before.
    static func sendAllowingFragments(_ message: UnsafePointer<msghdr>, on fd: Int32) {
        lock.withLock {
            set(fd, IP_PMTUDISC_WANT)
            _ = sendmsg(fd, message, 0)
            set(fd, IP_PMTUDISC_DO)
        }
    }

    private static let lock = NIOLock()

    private static func set(_ fd: Int32, _ mode: Int32) {
        var value = mode
        setsockopt(fd, Int32(IPPROTO_IP), IP_MTU_DISCOVER, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}
