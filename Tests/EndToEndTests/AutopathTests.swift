import Foundation
import XCTest

/// Search-path relief (`--autopath`) seen from a pod: glibc in a network namespace with a
/// kubelet-style resolv.conf resolves an external name and a name from another namespace, and
/// the server's query log shows how many queries that took. The upstream is a second
/// ClusterDNS in the same namespace serving a zone file, so all traffic stays inside it.
final class AutopathTests: XCTestCase {
    private let servers = ServerGroup()
    private var namespace: NetworkNamespace?
    private var data: TemporaryDirectory?

    override func tearDown() {
        servers.stopAll()
        namespace?.remove()
        namespace = nil
        data?.remove()
    }

    /// Starts the upstream (127.0.0.2:53) and the pod's server (127.0.0.1:53, which knows the
    /// pod 127.0.0.1 in `myserver`) inside a fresh namespace.
    private func startPodView(autopath: Bool) throws -> ServerProcess {
        let namespace = try NetworkNamespace.createPod(name: "cdns-ap-\(getpid())")
        self.namespace = namespace
        let data = try TemporaryDirectory(prefix: "clusterdns-autopath")
        self.data = data
        let manifests = (data.path as NSString).appendingPathComponent("cluster")
        try FileManager.default.copyItem(atPath: PackagePaths.demoManifests, toPath: manifests)
        try """
            apiVersion: v1
            kind: Pod
            metadata: {name: client, namespace: myserver}
            status: {podIP: 127.0.0.1}
            """.write(toFile: manifests + "/zz-client-pod.yaml", atomically: true, encoding: .utf8)
        let zones = (data.path as NSString).appendingPathComponent("zones")
        try FileManager.default.createDirectory(atPath: zones, withIntermediateDirectories: true)
        try """
            $ORIGIN example.com.
            $TTL 300
            @ IN SOA ns admin 1 3600 600 86400 60
            @ IN NS ns
            ns IN A 127.0.0.2
            www IN A 93.184.216.34

            """.write(toFile: zones + "/example.com.zone", atomically: true, encoding: .utf8)
        let empty = (data.path as NSString).appendingPathComponent("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try servers.start(manifests: empty, listen: "127.0.0.2:53", arguments: ["--zones", zones], prefix: namespace.exec)
        return try servers.start(
            manifests: manifests, listen: "127.0.0.1:53",
            arguments: ["--upstream", "127.0.0.2:53", "--log-queries"] + (autopath ? ["--autopath"] : []),
            prefix: namespace.exec)
    }

    private func getent(_ key: String) throws -> CommandResult {
        try XCTUnwrap(namespace).getent("ahosts", key)
    }

    /// Query-log lines of `server` whose question starts with `name`.
    private func queries(_ server: ServerProcess, for name: String) -> [String] {
        server.stdout.split(separator: "\n").map(String.init).filter { $0.contains(" IN \(name).") }
    }

    func testExternalNameNeedsOneRoundTripPerFamilyWithAutopath() throws {
        let server = try startPodView(autopath: true)
        let result = try getent("www.example.com")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("93.184.216.34"), result.stdout)
        usleep(200_000)  // the log line is written right after the reply
        let seen = queries(server, for: "www.example.com")
        // A and AAAA for the first search name only, each answered with a CNAME to the name.
        XCTAssertEqual(seen.count, 2, seen.joined(separator: "\n"))
        XCTAssertTrue(seen.allSatisfy { $0.contains("www.example.com.myserver.svc.cluster.local.") && $0.contains("NOERROR") },
                      seen.joined(separator: "\n"))

        // Another namespace's service: nginx.default.myserver… misses, nginx.default.svc… exists.
        let other = try getent("nginx.default")
        XCTAssertEqual(other.status, 0, other.stdout + other.stderr)
        XCTAssertTrue(other.stdout.hasPrefix("10.247.124.252"), other.stdout)
        XCTAssertEqual(queries(server, for: "nginx.default").count, 2, server.stdout)

        // The same relief over TCP, which takes the same pipeline (issue #10): the in-zone
        // walk and the upstream one, asked from the pod's address.
        let dig = Dig(host: "127.0.0.1", port: 53, prefix: try XCTUnwrap(namespace).exec)
        for transport in Dig.Transport.allCases {
            let external = try dig.query("www.example.com.myserver.svc.cluster.local.", over: transport)
            XCTAssertEqual(external.status, "NOERROR", "\(transport)\n\(external)")
            XCTAssertEqual(external.answers("CNAME"), ["www.example.com."], "\(transport)\n\(external)")
            XCTAssertEqual(external.answers("A"), ["93.184.216.34"], "\(transport)\n\(external)")
            let inZone = try dig.query("nginx.default.myserver.svc.cluster.local.", over: transport)
            XCTAssertEqual(inZone.answers("CNAME"), ["nginx.default.svc.cluster.local."], "\(transport)\n\(inZone)")
            XCTAssertEqual(inZone.answers("A"), ["10.247.124.252"], "\(transport)\n\(inZone)")
        }
    }

    func testWithoutAutopathThePodWalksItsWholeSearchList() throws {
        let server = try startPodView(autopath: false)
        let result = try getent("www.example.com")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("93.184.216.34"), result.stdout)
        usleep(200_000)
        // Three search names and the name itself, for A and AAAA: the cost autopath saves.
        let seen = queries(server, for: "www.example.com")
        XCTAssertGreaterThanOrEqual(seen.count, 8, seen.joined(separator: "\n"))
    }
}
