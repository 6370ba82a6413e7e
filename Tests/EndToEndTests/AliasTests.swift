import DNSTestSupport
import Foundation
import XCTest

/// `clusterdns.io/aliases` with the real binary and a real NSD upstream for the rest of the
/// domain: an alias answers like its Service's own name, authoritatively; the rest of the alias
/// domain, and aliases outside `--alias-domains`, still go upstream; a contested alias goes to
/// the older Service, and follows a change of who is older while the server runs.
final class AliasTests: XCTestCase {
    private let servers = ServerGroup()
    private var scratch: TemporaryDirectory?
    private var nsd: NSDServer?

    /// The public face of the names: what a pod would get without aliases (hairpin traffic).
    private static let upstreamZone = """
        $ORIGIN example.com.
        $TTL 300
        @ IN SOA ns.example.com. hostmaster.example.com. 1 3600 900 604800 300
        @ IN NS ns.example.com.
        ns IN A 192.0.2.53
        api IN A 203.0.113.1
        other IN A 192.0.2.9

        """

    private static func manifests(thiefCreated: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: ingress
          namespace: shop
          creationTimestamp: "2024-01-01T00:00:00Z"
          annotations:
            clusterdns.io/aliases: "api.example.com, WWW.example.com., evil.test"
        spec:
          clusterIP: 10.96.5.5
          ports: [{name: https, port: 443}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: thief
          namespace: dev
          creationTimestamp: "\(thiefCreated)"
          annotations:
            clusterdns.io/aliases: "api.example.com,db.example.com"
        spec:
          clusterIP: None
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: thief-abc
          namespace: dev
          labels: {kubernetes.io/service-name: thief}
        addressType: IPv4
        endpoints:
        - addresses: [10.1.0.7]
        - addresses: [10.1.0.8]

        """
    }

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory(prefix: "clusterdns-alias")
        try scratch?.write("aliases.yaml", Self.manifests(thiefCreated: "2025-01-01T00:00:00Z"))
        nsd = try NSDServer(zones: ["example.com": Self.upstreamZone])
    }

    override func tearDown() {
        servers.stopAll()
        nsd?.stop()
        scratch?.remove()
    }

    private func start(_ arguments: [String]) throws -> ServerProcess {
        try servers.start(
            manifests: try XCTUnwrap(scratch).path,
            arguments: ["--upstream", "127.0.0.1:\(try XCTUnwrap(nsd).port)", "--reload-interval", "0.2"] + arguments)
    }

    func testAliasesAnswerLikeTheirServiceAndTheRestIsForwarded() throws {
        let server = try start(["--alias-domains", "example.com"])
        let api = try server.dig.query("api.example.com")
        XCTAssertEqual(api.status, "NOERROR", api.transcript)
        XCTAssertEqual(api.answers("A"), ["10.96.5.5"], "the ClusterIP, not the public address")
        XCTAssertTrue(api.isAuthoritative, api.transcript)
        XCTAssertEqual(try server.dig.short("www.example.com"), ["10.96.5.5"], "case and trailing dot of the annotation")
        XCTAssertEqual(try server.dig.short("db.example.com").sorted(), ["10.1.0.7", "10.1.0.8"], "headless: its endpoints")

        // Authoritative for exactly those names: another type is NODATA, other names go upstream.
        let mx = try server.dig.query("api.example.com", "MX")
        XCTAssertEqual(mx.status, "NOERROR")
        XCTAssertEqual(mx.answer, [])
        XCTAssertEqual(mx.authority.first?.type, "SOA", mx.transcript)
        XCTAssertEqual(mx.authority.first?.owner, "example.com.")
        let other = try server.dig.query("other.example.com")
        XCTAssertEqual(other.answers("A"), ["192.0.2.9"], "the upstream's answer: \(other.transcript)")

        // Refused and contested aliases are reported at start.
        let log = server.stdout + server.stderr
        XCTAssertTrue(log.contains("alias evil.test is not below --alias-domains (example.com.)"), log)
        XCTAssertTrue(log.contains("service dev/thief: alias api.example.com. is also claimed by shop/ingress"), log)
        XCTAssertNotEqual(try server.dig.short("evil.test"), ["10.96.5.5"])
    }

    func testWithoutAliasDomainsAliasesAreOff() throws {
        let server = try start([])
        XCTAssertEqual(try server.dig.short("api.example.com"), ["203.0.113.1"])
        XCTAssertEqual(try server.dig.query("db.example.com").status, "NXDOMAIN", "the upstream's answer")
    }

    /// The contested alias moves when the other Service turns out older, while serving.
    func testContestedAliasFollowsTheOlderService() throws {
        let server = try start(["--alias-domains", "example.com"])
        XCTAssertEqual(try server.dig.short("api.example.com"), ["10.96.5.5"])
        try XCTUnwrap(scratch).write("aliases.yaml", Self.manifests(thiefCreated: "2023-01-01T00:00:00Z"))
        let deadline = Date().addingTimeInterval(5)
        var answer: [String] = []
        while Date() < deadline {
            answer = try server.dig.short("api.example.com").sorted()
            if answer == ["10.1.0.7", "10.1.0.8"] { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(answer, ["10.1.0.7", "10.1.0.8"])
        XCTAssertEqual(try server.dig.short("www.example.com"), ["10.96.5.5"], "the uncontested alias stays")
        // The reload line reports the new loser.
        let reported = "service shop/ingress: alias api.example.com. is also claimed by dev/thief"
        let logDeadline = Date().addingTimeInterval(5)
        while !(server.stdout + server.stderr).contains(reported), Date() < logDeadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertTrue((server.stdout + server.stderr).contains(reported), server.stdout + server.stderr)
    }
}
