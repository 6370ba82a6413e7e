import Foundation
import XCTest

/// Issue #11 item 14: serve raises its open-file soft limit to the hard one at start, so a
/// thousand idle connections cannot starve the upstream sockets and health endpoints.
final class FileDescriptorLimitTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() { servers.stopAll() }

    private static func openFileLimits(_ pid: Int32) -> (soft: String, hard: String)? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return nil }
        let fields = line.dropFirst("Max open files".count).split(separator: " ")
        return fields.count >= 2 ? (String(fields[0]), String(fields[1])) : nil
    }

    func testServeRaisesTheSoftLimitToTheHardOne() throws {
        // Started with soft 256, hard 4096 (prlimit execs the server in place).
        let server = try servers.start(prefix: ["prlimit", "--nofile=256:4096", "--"])
        let limits = try XCTUnwrap(Self.openFileLimits(server.process.processIdentifier))
        XCTAssertEqual(limits.hard, "4096")
        XCTAssertEqual(limits.soft, "4096")
        XCTAssertEqual(try server.dig.short("nginx-service.myserver.svc.cluster.local."), ["10.100.57.113"])
    }
}
