import XCTest

/// The real binary's `--metrics-listen`: dig traffic, then a Prometheus scrape of `/metrics`.
final class MetricsEndToEndTests: XCTestCase {
    private let servers = ServerGroup()

    override func tearDown() {
        servers.stopAll()
    }

    /// `clusterdns metrics: /metrics on 127.0.0.1:PORT`.
    static func metricsPort(in output: String) -> Int? {
        let marker = "clusterdns metrics: /metrics on 127.0.0.1:"
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(marker) }) else { return nil }
        return Int(line.dropFirst(marker.count))
    }

    static func scrape(port: Int) throws -> String {
        let socket = try RawSocket(.tcp, host: "127.0.0.1", port: port)
        try socket.send(Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
        var received: [UInt8] = []
        while let chunk = socket.receive(timeout: 5000), !chunk.isEmpty { received += chunk }
        let text = String(decoding: received, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200"), let split = text.range(of: "\r\n\r\n") else {
            throw CommandFailure(description: "bad /metrics reply: \(text)")
        }
        return String(text[split.upperBound...])
    }

    func testScrapeAfterDigTrafficCountsRequestsAndResponses() throws {
        let server = try servers.startDemo()
        let port = try XCTUnwrap(Self.metricsPort(in: server.stdout), "no metrics line:\n\(server.stdout)")
        let service = "nginx-service.myserver.svc.cluster.local"
        XCTAssertEqual(try server.dig.short(service), ["10.100.57.113"])
        XCTAssertEqual(try server.dig.short(service), ["10.100.57.113"])
        XCTAssertEqual(try server.dig.short(service, over: .tcp), ["10.100.57.113"])
        XCTAssertEqual(try server.dig.query("missing.myserver.svc.cluster.local", "AAAA").status, "NXDOMAIN")

        let body = try Self.scrape(port: port)
        // CoreDNS labels with the configured listen address (here the harness's 127.0.0.1:0).
        let common = #"server="dns://127.0.0.1:0",zone=".",view="""#
        let expected = [
            #"coredns_dns_requests_total{\#(common),proto="udp",family="1",type="A"} 2"#,
            #"coredns_dns_requests_total{\#(common),proto="tcp",family="1",type="A"} 1"#,
            #"coredns_dns_requests_total{\#(common),proto="udp",family="1",type="AAAA"} 1"#,
            #"coredns_dns_responses_total{\#(common),rcode="NOERROR",plugin="kubernetes"} 3"#,
            #"coredns_dns_responses_total{\#(common),rcode="NXDOMAIN",plugin="kubernetes"} 1"#,
            #"coredns_dns_request_duration_seconds_count{\#(common),type="A"} 3"#,
            #"coredns_build_info{version="0.1.0",revision="unknown",goversion="swift-6"} 1.0"#,
            #"clusterdns_reloads_total{result="failure"} 0"#,
        ]
        let lines = Set(body.split(separator: "\n").map(String.init))
        for line in expected {
            XCTAssertTrue(lines.contains(line), "missing \(line) in:\n\(body)")
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix(#"clusterdns_registry_objects{kind="Service"} "#) }, body)
    }

    func testEmptyListenTurnsMetricsOffAndBadValuesAreRejected() throws {
        let server = try servers.startDemo(arguments: ["--metrics-listen", ""])
        XCTAssertNil(Self.metricsPort(in: server.stdout), server.stdout)
        XCTAssertFalse(server.stdout.contains("clusterdns metrics:"), server.stdout)
        XCTAssertEqual(try server.dig.short("nginx-service.myserver.svc.cluster.local"), ["10.100.57.113"])

        let bad = try Subprocess.run(try PackagePaths.binary(), [
            "serve", "--manifests", PackagePaths.demoManifests, "--listen", "127.0.0.1:0", "--resolv-conf", "/dev/null",
            "--metrics-listen", "localhost:http",
        ])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad port"), bad.stderr)
    }
}
