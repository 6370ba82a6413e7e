import Foundation
import XCTest

/// The real binary's probes and signal handling (CoreDNS `health { lameduck }`): SIGTERM fails
/// `/ready` at once, DNS keeps answering for `--lameduck` seconds, then it exits 0; SIGINT exits
/// at once.
final class LameduckTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() {
        servers.stopAll()
    }

    private let serviceName = "nginx-service.myserver.svc.cluster.local"

    private func start(lameduck: Double) throws -> (ServerProcess, health: Int, ready: Int) {
        let server = try servers.start(arguments: [
            "--lameduck", String(lameduck),
            "--health-listen", "127.0.0.1:0", "--ready-listen", "127.0.0.2:0",
        ])
        let probes = try XCTUnwrap(Self.probePorts(in: server.stdout), "no probes line:\n\(server.stdout)")
        return (server, probes.health, probes.ready)
    }

    /// `clusterdns probes: /health on 127.0.0.1:P, /ready on 127.0.0.2:Q`.
    static func probePorts(in output: String) -> (health: Int, ready: Int)? {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("clusterdns probes: ") }) else {
            return nil
        }
        func port(after marker: String) -> Int? {
            guard let range = line.range(of: marker) else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        guard let health = port(after: "/health on 127.0.0.1:"), let ready = port(after: "/ready on 127.0.0.2:")
        else { return nil }
        return (health, ready)
    }

    func testSIGTERMFailsReadinessKeepsAnsweringThenExitsZero() throws {
        let lameduck = 2.0
        let (server, health, ready) = try start(lameduck: lameduck)
        XCTAssertEqual(try HTTP.get("/health", host: "127.0.0.1", port: health).status, 200)
        XCTAssertEqual(try HTTP.get("/ready", host: "127.0.0.2", port: ready).status, 200, "ready once loaded")

        let signalled = Date()
        kill(server.process.processIdentifier, SIGTERM)
        let flipped = Subprocess.poll(until: signalled.addingTimeInterval(1)) {
            (try? HTTP.get("/ready", host: "127.0.0.2", port: ready).status) == 503
        }
        XCTAssertTrue(flipped, "/ready did not turn 503 after SIGTERM\n\(server.stderr)")
        for transport in Dig.Transport.allCases {
            let answer = try server.dig.short(serviceName, over: transport)
            XCTAssertEqual(answer, ["10.100.57.113"], "answered during lameduck over \(transport)")
        }
        XCTAssertEqual(try HTTP.get("/health", host: "127.0.0.1", port: health).status, 200, "alive during lameduck")
        XCTAssertTrue(server.isRunning, "exited before the lameduck period ended")
        XCTAssertLessThan(Date().timeIntervalSince(signalled), lameduck, "checks must fit in the lameduck window")

        XCTAssertTrue(Subprocess.waitForExit(server.process, timeout: lameduck + 5), "still running after lameduck")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(signalled), lameduck - 0.1)
        XCTAssertEqual(server.process.terminationReason, .exit, "killed by the signal instead of exiting")
        XCTAssertEqual(server.process.terminationStatus, 0, server.stderr)
        XCTAssertTrue(server.stderr.contains("SIGTERM: lameduck"), server.stderr)
    }

    func testSIGINTExitsPromptly() throws {
        let (server, _, ready) = try start(lameduck: 30)
        XCTAssertEqual(try HTTP.get("/ready", host: "127.0.0.2", port: ready).status, 200)
        let signalled = Date()
        kill(server.process.processIdentifier, SIGINT)
        XCTAssertTrue(Subprocess.waitForExit(server.process, timeout: 3), "SIGINT did not stop it promptly")
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 3)
        XCTAssertEqual(server.process.terminationReason, .exit)
        XCTAssertEqual(server.process.terminationStatus, 0, server.stderr)
    }

    func testSecondSIGTERMDuringLameduckExitsPromptly() throws {
        let (server, _, ready) = try start(lameduck: 30)
        kill(server.process.processIdentifier, SIGTERM)
        XCTAssertTrue(Subprocess.poll(until: Date().addingTimeInterval(1)) {
            (try? HTTP.get("/ready", host: "127.0.0.2", port: ready).status) == 503
        })
        let second = Date()
        kill(server.process.processIdentifier, SIGTERM)
        XCTAssertTrue(Subprocess.waitForExit(server.process, timeout: 3), "second SIGTERM did not cut lameduck short")
        XCTAssertLessThan(Date().timeIntervalSince(second), 3)
        XCTAssertEqual(server.process.terminationStatus, 0, server.stderr)
    }

    func testProbesCanBeSwitchedOffAndBadAddressesAreRefused() throws {
        let server = try servers.start(arguments: ["--health-listen", "", "--ready-listen", ""])
        XCTAssertFalse(server.stdout.contains("clusterdns probes:"), server.stdout)
        XCTAssertEqual(try server.dig.short(serviceName), ["10.100.57.113"])

        let bad = try Subprocess.run(try PackagePaths.binary(), [
            "serve", "--manifests", PackagePaths.demoManifests, "--listen", "127.0.0.1:0", "--resolv-conf", "/dev/null",
            "--health-listen", "localhost:http",
        ])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad port"), bad.stderr)
        let negative = try Subprocess.run(try PackagePaths.binary(), [
            "serve", "--manifests", PackagePaths.demoManifests, "--listen", "127.0.0.1:0", "--resolv-conf", "/dev/null", "--lameduck", "-1",
        ])
        XCTAssertNotEqual(negative.status, 0)
        XCTAssertTrue(negative.stderr.contains("--lameduck"), negative.stderr)
    }
}
