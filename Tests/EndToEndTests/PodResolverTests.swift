import XCTest

/// A pod's view: glibc's stub resolver inside a network namespace with a kubelet-style
/// resolv.conf (namespace `myserver`, ndots:5) resolving short names through `getent`
/// (DESIGN.md §8; README "Pointing a pod at it"). Needs root for `ip netns`.
final class PodResolverTests: XCTestCase {
    private let servers = ServerGroup()
    private var namespace: NetworkNamespace?

    override func setUpWithError() throws {
        let namespace = try NetworkNamespace.createPod(name: "cdns-e2e-\(getpid())")
        self.namespace = namespace
        do {
            // Port 53: the stub resolver cannot be pointed at another port.
            try servers.start(listen: "127.0.0.1:53", prefix: namespace.exec)
        } catch {
            tearDown()  // leave no namespace behind even if XCTest skips tearDown after a failed setUp
            throw error
        }
    }

    override func tearDown() {
        servers.stopAll()
        namespace?.remove()
        namespace = nil
    }

    private func getent(_ database: String, _ key: String) throws -> CommandResult {
        try XCTUnwrap(namespace).getent(database, key)
    }

    /// The distinct addresses (first column) of `getent ahosts`/`hosts` output.
    private func addresses(_ result: CommandResult) -> Set<String> {
        Set(result.lines.compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    func testShortServiceNameFromOwnNamespace() throws {
        // tomcat-serivce → tomcat-serivce.myserver.svc.cluster.local (zones/cluster/myserver-tomcat.yaml).
        let result = try getent("ahosts", "tomcat-serivce")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(addresses(result), ["10.100.160.12"], result.stdout)
        XCTAssertTrue(result.stdout.contains("STREAM tomcat-serivce.myserver.svc.cluster.local"), result.stdout)
    }

    func testServiceDotNamespace() throws {
        // nginx-service.myserver → …svc.cluster.local via the second search domain.
        let result = try getent("ahosts", "nginx-service.myserver")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(addresses(result), ["10.100.57.113"], result.stdout)
        XCTAssertTrue(result.stdout.contains("STREAM nginx-service.myserver.svc.cluster.local"), result.stdout)

        let other = try getent("hosts", "nginx.default")
        XCTAssertEqual(other.status, 0, other.stdout + other.stderr)
        XCTAssertEqual(
            other.normalizedLines,
            ["10.247.124.252 nginx.default.svc.cluster.local"])
    }

    func testStatefulSetPodName() throws {
        let result = try getent("hosts", "web-0.nginx-headless.default")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(
            result.normalizedLines,
            ["172.16.0.31 web-0.nginx-headless.default.svc.cluster.local"])
    }

    func testDualStackServiceGivesBothFamilies() throws {
        let result = try getent("ahosts", "dual-echo.default")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(addresses(result), ["10.96.0.50", "fd00:10:96::50"], result.stdout)
    }

    func testUnknownNamesFail() throws {
        // `kubernetes` lives in default, not in this pod's namespace myserver; web-3 is not ready.
        for name in ["no-such-service", "kubernetes", "web-3.nginx-headless.default"] {
            let result = try getent("hosts", name)
            XCTAssertEqual(result.status, 2, "\(name) must not resolve: \(result.stdout)")
        }
    }
}
