@testable import DNSServer
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The UDP listeners send with DF and let the kernel skip the per-packet IP ID
/// (`AtomicDatagrams`); `FragmentedReplyTests` shows a reply larger than the path still arrives.
final class AtomicDatagramsTests: XCTestCase {
    func testIPv4ListenersRefuseFragmentingByDefault() throws {
        let fd = try UDPListener.bind(host: "127.0.0.1", port: 0)
        defer { close(fd) }
        var mode: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_IP), IP_MTU_DISCOVER, &mode, &length), 0)
        XCTAssertEqual(mode, IP_PMTUDISC_DO)
    }
}
