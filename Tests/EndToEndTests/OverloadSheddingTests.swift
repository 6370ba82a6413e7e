import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Issue #11, UDP overload shedding, on the real binary: queries that waited in the socket's
/// queue longer than `--udp-max-queue-delay` are dropped unanswered and counted, and the server
/// answers what comes next. The wait is made by stopping the server (SIGSTOP) while the queries
/// arrive: the kernel's arrival stamps then show them old when it resumes.
final class OverloadSheddingTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() { servers.stopAll() }

    /// Queries sent while the server is stopped for 600 ms. SIGSTOP is asynchronous: the
    /// queries go out only once every thread of the server shows as stopped, or a serving thread
    /// still running would answer the first of them at once.
    private func burstWhileStopped(_ server: ServerProcess, from source: String) throws -> RateLimitTests.Tally {
        let pid = server.process.processIdentifier
        return try RateLimitTests.burst(
            server, from: source, count: 30,
            beforeSending: {
                kill(pid, SIGSTOP)
                let stopped = Subprocess.poll(until: Date().addingTimeInterval(5)) { Self.allThreadsStopped(pid) }
                XCTAssertTrue(stopped, "the server did not stop")
            },
            afterSending: {
                usleep(600_000)
                kill(pid, SIGCONT)
            })
    }

    /// Whether every thread of `pid` is in the stopped state (`T` in /proc/PID/task/*/stat).
    private static func allThreadsStopped(_ pid: Int32) -> Bool {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"), !tasks.isEmpty else { return false }
        return tasks.allSatisfy { task in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { return false }
            // The state follows the command name in parentheses: "PID (name) T ...".
            return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("T")
        }
    }

    func testQueriesThatWaitedTooLongAreShedAndCounted() throws {
        let server = try servers.start(arguments: ["--udp-max-queue-delay", "0.2"])
        XCTAssertEqual(try burstWhileStopped(server, from: "127.0.0.31"), RateLimitTests.Tally())
        XCTAssertEqual(try RateLimitTests.burst(server, from: "127.0.0.32", count: 1), RateLimitTests.Tally(answered: 1))
        let port = try XCTUnwrap(MetricsEndToEndTests.metricsPort(in: server.stdout), server.stdout)
        let body = try MetricsEndToEndTests.scrape(port: port)
        XCTAssertTrue(body.contains(#"clusterdns_udp_shed_total{reason="queue_delay"} 30"#), body)
    }

    /// The control: with shedding off, the same queries are all answered late.
    func testWithoutSheddingTheQueuedQueriesAreAnswered() throws {
        let server = try servers.start(arguments: ["--udp-max-queue-delay", "0"])
        XCTAssertEqual(try burstWhileStopped(server, from: "127.0.0.33"), RateLimitTests.Tally(answered: 30))
    }
}
