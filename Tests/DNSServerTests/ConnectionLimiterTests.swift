import DNSWire
@testable import DNSServer
import XCTest

/// The connection caps' bookkeeping (issue #11 item 3); `TCPBackPressureTests` checks them on
/// the real binary.
final class ConnectionLimiterTests: XCTestCase {
    func testCapsPerClientAndInAllAndGivesPlacesBack() {
        let limiter = ConnectionLimiter(limits: .init(total: 3, perClient: 2))
        let a = IPAddress("10.0.0.1"), b = IPAddress("10.0.0.2"), c = IPAddress("10.0.0.3")
        XCTAssertTrue(limiter.admit(a))
        XCTAssertTrue(limiter.admit(a))
        XCTAssertFalse(limiter.admit(a), "per client")
        XCTAssertTrue(limiter.admit(b))
        XCTAssertFalse(limiter.admit(c), "in all")
        XCTAssertFalse(limiter.admit(nil), "in all, whatever the address")
        XCTAssertEqual(limiter.openCount, 3)
        XCTAssertEqual(limiter.refusedCount, 3)
        limiter.release(a)
        XCTAssertTrue(limiter.admit(c))
        for client in [a, b, c] { limiter.release(client) }
        XCTAssertEqual(limiter.openCount, 0)
        XCTAssertTrue(limiter.admit(a))
        XCTAssertTrue(limiter.admit(a), "a client's count went back to zero")
    }

    /// The cap stays below the open-file limit by the reserve, and never below one connection;
    /// an unknown limit leaves the cap as asked.
    func testLimitsKeepDescriptorsInReserve() {
        let asked = ConnectionLimiter.Limits(total: 1_000, perClient: 100)
        XCTAssertEqual(asked.within(descriptors: 1_024, reserve: 256), .init(total: 768, perClient: 100))
        XCTAssertEqual(asked.within(descriptors: 300, reserve: 256), .init(total: 44, perClient: 44))
        XCTAssertEqual(asked.within(descriptors: 100, reserve: 256), .init(total: 1, perClient: 1))
        XCTAssertEqual(asked.within(descriptors: 1 << 20, reserve: 256), asked)
        XCTAssertEqual(asked.within(descriptors: .max, reserve: 256), asked)
        XCTAssertEqual(asked.within(descriptors: 0, reserve: 256), asked)
    }
}
