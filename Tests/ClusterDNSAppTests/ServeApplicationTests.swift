import ClusterDNSApp
import ClusterRegistry
import DNSServer
import DNSTestSupport
import DNSWire
import Foundation
import NIOCore
import XCTest

/// The composition root the command line runs (`ServeApplication`), started in-process from
/// `ServeSettings` built by hand: the demo cluster answers over UDP and TCP, is ready at once,
/// forwards through an NSD upstream on loopback, and stops on request.
final class ServeApplicationTests: XCTestCase {
    private static let demoManifests = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("zones/cluster").path

    private func query(_ name: String, _ type: RecordType, id: UInt16 = 42) throws -> [UInt8] {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: type)])
        message.header.id = id
        message.header[.recursionDesired] = true
        return message.encoded()
    }

    func testServesTheDemoFromSettings() async throws {
        let nsd = try NSDServer(zones: ["example.com": """
            $ORIGIN example.com.
            $TTL 300
            @ IN SOA ns admin 1 3600 600 86400 60
            @ IN NS ns
            ns IN A 127.0.0.1
            www IN A 93.184.216.34

            """])
        defer { nsd.stop() }
        var settings = ServeSettings(
            source: .manifests(directory: Self.demoManifests), registry: RegistryConfiguration(),
            listen: HostPort(host: "127.0.0.1", port: 0),
            resolver: ResolverSettings(upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: nsd.port)], policy: .sequential))
        settings.handlesSignals = false
        settings.metricsListen = HostPort(host: "127.0.0.1", port: 0)
        let application = try await ServeApplication.start(settings)
        let port = application.listening.port
        XCTAssertNotEqual(port, 0)
        XCTAssertTrue(application.readiness.isReady, "manifests are loaded before start returns")
        XCTAssertNotNil(application.metricsServer?.localAddress)

        for transport in ["udp", "tcp"] {
            let packet = try query("nginx-service.myserver.svc.cluster.local", .a)
            let bytes = try XCTUnwrap(transport == "udp" ? DNSTestClient.udp(packet, port: port) : DNSTestClient.tcp(packet, port: port))
            let reply = try DNSMessage(decoding: bytes)
            XCTAssertEqual(reply.header.id, 42)
            XCTAssertEqual(reply.answers.map(\.data), [.a(IPAddress("10.100.57.113")!)], transport)
            let forwarded = try DNSMessage(decoding: try XCTUnwrap(
                transport == "udp" ? DNSTestClient.udp(try query("www.example.com", .a), port: port)
                    : DNSTestClient.tcp(try query("www.example.com", .a), port: port)))
            XCTAssertEqual(forwarded.answers.map(\.data), [.a(IPAddress("93.184.216.34")!)], transport)
        }
        await application.shutdown()
        XCTAssertNil(try? DNSTestClient.udp(try query("nginx-service.myserver.svc.cluster.local", .a), port: port, timeout: 0.3))
    }

    /// A manifests directory that does not load is a `RegistryLoadFailure`, which the command
    /// line reports with exit code 2.
    func testARegistryThatDoesNotLoadFailsTheStart() async throws {
        let directory = NSTemporaryDirectory() + "clusterdns-app-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "apiVersion: v1\nkind: Service\nmetadata: {name: broken}\nspec: {clusterIP: not-an-ip}\n"
            .write(toFile: directory + "/broken.yaml", atomically: true, encoding: .utf8)
        var settings = ServeSettings(
            source: .manifests(directory: directory), registry: RegistryConfiguration(), listen: HostPort(host: "127.0.0.1", port: 0),
            resolver: ResolverSettings(upstreams: []))
        settings.handlesSignals = false
        do {
            _ = try await ServeApplication.start(settings)
            XCTFail("expected the start to fail")
        } catch let failure as ServeApplication.RegistryLoadFailure {
            XCTAssertTrue(failure.description.contains("broken.yaml"), failure.description)
        }
    }
}
