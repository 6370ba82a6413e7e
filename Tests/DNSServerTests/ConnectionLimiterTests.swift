import DNSWire
@testable import DNSServer
import NIOCore
import XCTest

/// The connection caps' bookkeeping (issue #11 item 3); `TCPBackPressureTests` checks them on
/// the real binary.
final class ConnectionLimiterTests: XCTestCase {
    /// Stand-ins for connections: an identity and a record of being closed by the limiter.
    private final class Connection: @unchecked Sendable {
        var closed = false
        var id: ObjectIdentifier { ObjectIdentifier(self) }
    }

    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    private func admit(_ limiter: ConnectionLimiter, _ connection: Connection, _ client: IPAddress?, at seconds: Double) -> Bool {
        limiter.admit(connection.id, client: client, now: start + .milliseconds(Int64(seconds * 1000))) { connection.closed = true }
    }

    /// With every connection in use, the caps refuse newcomers; places come back on release.
    func testCapsPerClientAndInAllAndGivesPlacesBack() {
        let limiter = ConnectionLimiter(limits: .init(total: 3, perClient: 2))
        let a = IPAddress("10.0.0.1"), b = IPAddress("10.0.0.2"), c = IPAddress("10.0.0.3")
        let held = (0..<3).map { _ in Connection() }
        XCTAssertTrue(admit(limiter, held[0], a, at: 0))
        XCTAssertTrue(admit(limiter, held[1], a, at: 0))
        XCTAssertFalse(admit(limiter, Connection(), a, at: 0.5), "per client")
        XCTAssertTrue(admit(limiter, held[2], b, at: 0.5))
        XCTAssertFalse(admit(limiter, Connection(), c, at: 0.9), "in all")
        XCTAssertFalse(admit(limiter, Connection(), nil, at: 0.9), "in all, whatever the address")
        XCTAssertEqual(limiter.openCount, 3)
        XCTAssertEqual(limiter.refusedCount, 3)
        XCTAssertFalse(held.contains { $0.closed }, "nothing was idle long enough to make way")
        limiter.release(held[0].id)
        let third = Connection()
        XCTAssertTrue(admit(limiter, third, c, at: 0.9))
        for connection in held.dropFirst() + [third] { limiter.release(connection.id) }
        XCTAssertEqual(limiter.openCount, 0)
        XCTAssertTrue(admit(limiter, Connection(), a, at: 1))
        XCTAssertTrue(admit(limiter, Connection(), a, at: 1), "a client's count went back to zero")
    }

    /// When full, the connection idle longest (nothing read for a second or more) is closed to
    /// make way; one that read recently is not. The per-client cap only ever takes the client's
    /// own connection.
    func testTheLongestIdleConnectionMakesWay() {
        let limiter = ConnectionLimiter(limits: .init(total: 3, perClient: 2))
        let a = IPAddress("10.0.0.1"), b = IPAddress("10.0.0.2"), c = IPAddress("10.0.0.3")
        let first = Connection(), second = Connection(), third = Connection()
        XCTAssertTrue(admit(limiter, first, a, at: 0))
        XCTAssertTrue(admit(limiter, second, b, at: 0.5))
        XCTAssertTrue(admit(limiter, third, a, at: 1))
        limiter.touch(first.id, now: start + .seconds(3))  // a read: in use again
        // Full at 3.2 s: `second` (idle since 0.5 s) is idle longest; `first` read at 3 s.
        let fourth = Connection()
        XCTAssertTrue(admit(limiter, fourth, c, at: 3.2))
        XCTAssertEqual([first, second, third].map(\.closed), [false, true, false])
        limiter.release(second.id)  // its close arrives later: nothing more to give back
        XCTAssertEqual(limiter.openCount, 3)
        XCTAssertEqual(limiter.evictedCount, 1)
        // Client a at its cap: its own idle `third` goes, not c's idler `fourth`.
        let fifth = Connection()
        XCTAssertTrue(admit(limiter, fifth, a, at: 5))
        XCTAssertEqual([first, third, fourth].map(\.closed), [false, true, false])
        // Everyone read within the last second: refused.
        for connection in [first, fourth] { limiter.touch(connection.id, now: start + .milliseconds(5_200)) }
        XCTAssertFalse(admit(limiter, Connection(), b, at: 5.5))
        XCTAssertEqual(limiter.refusedCount, 1)
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
