import XCTest

/// `serve` flags that change answers: --upstream, --ttl, --pods, --namespaces,
/// --endpoint-pod-names and --domain (README "Usage"; EXPECTED.md "Flag variants").
final class ServeOptionsTests: XCTestCase {
    private let servers = ServerGroup()
    private var scratch: TemporaryDirectory?

    override func tearDown() {
        servers.stopAll()
        scratch?.remove()
    }

    private func demo(_ arguments: [String]) throws -> Dig {
        try servers.start(arguments: arguments).dig
    }

    /// A second clusterdns serving only an `example.com` zone file acts as the upstream resolver.
    func testForwardingAndExternalNameThroughUpstream() throws {
        let scratch = try TemporaryDirectory()
        self.scratch = scratch
        let zones = (scratch.path as NSString).appendingPathComponent("zones")
        let empty = (scratch.path as NSString).appendingPathComponent("manifests")
        try FileManager.default.createDirectory(atPath: zones, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try scratch.write("zones/example.com.zone", """
            $ORIGIN example.com.
            $TTL 60
            @ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 60
              IN NS ns1
            ns1 IN A 192.0.2.1
            my.database IN A 203.0.113.7
            my.database IN AAAA 2001:db8::7

            """)
        let upstream = try servers.start(manifests: empty, arguments: ["--zones", zones])
        let dig = try demo(["--upstream", "\(upstream.host):\(upstream.port)"])
        let external = "my-service.prod.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            let forwarded = try dig.query("my.database.example.com.", "A", over: transport)
            XCTAssertEqual(forwarded.status, "NOERROR", "\(forwarded)")
            XCTAssertEqual(forwarded.answer.map(\.description), ["my.database.example.com. 60 IN A 203.0.113.7"])

            let missing = try dig.query("nosuch.example.com.", "A", over: transport)
            XCTAssertEqual(missing.status, "NXDOMAIN", "the upstream's answer is passed on\n\(missing)")

            let a = try dig.query(external, "A", over: transport)
            XCTAssertEqual(a.status, "NOERROR", "\(a)")
            XCTAssertEqual(
                a.answer.map(\.description),
                ["\(external) 5 IN CNAME my.database.example.com.", "my.database.example.com. 60 IN A 203.0.113.7"],
                "\(a)")
            let aaaa = try dig.query(external, "AAAA", over: transport)
            XCTAssertEqual(
                aaaa.answer.map(\.description),
                ["\(external) 5 IN CNAME my.database.example.com.", "my.database.example.com. 60 IN AAAA 2001:db8::7"],
                "\(aaaa)")
            // Our own zone is still answered by us, not forwarded.
            Expect.answer(
                try dig.query("kubernetes.default.svc.cluster.local.", over: transport),
                owner: "kubernetes.default.svc.cluster.local.", type: "A", ["10.96.0.1"])
        }
    }

    /// An IPv6 listen address: the UDP sockets and the TCP listener bind it alike.
    func testListenOnIPv6Loopback() throws {
        let server = try servers.start(listen: "[::1]:0")
        XCTAssertEqual(server.host, "::1")
        for transport in Dig.Transport.allCases {
            XCTAssertEqual(try server.dig.short("nginx-service.myserver.svc.cluster.local", over: transport), ["10.100.57.113"])
        }
    }

    func testTTL() throws {
        let dig = try demo(["--ttl", "30"])
        let name = "nginx-service.myserver.svc.cluster.local."
        Expect.answer(try dig.query(name), owner: name, type: "A", ["10.100.57.113"], ttl: 30)
        Expect.nxDomain(try dig.query("nosuch.cluster.local."), soa: Expect.clusterSOA(ttl: 30), soaTTL: 30)
        Expect.answer(
            try dig.query("dns-version.cluster.local.", "TXT"), owner: "dns-version.cluster.local.", type: "TXT",
            ["\"1.1.0\""], ttl: 28800)
        // The SOA's own TTL is capped at 300 (DESIGN.md §1), its minimum field is the TTL.
        let long = try servers.start(arguments: ["--ttl", "600"]).dig
        Expect.nxDomain(try long.query("nosuch.cluster.local."), soa: Expect.clusterSOA(ttl: 600), soaTTL: 300)
    }

    func testPodsVerifiedAndDisabled() throws {
        let verified = try demo(["--pods", "verified"])
        let existing = "10-244-1-12.myserver.pod.cluster.local."  // pod nginx-deployment-766fc9dfdd-f488k
        Expect.answer(try verified.query(existing), owner: existing, type: "A", ["10.244.1.12"])
        let notReadyPod = "172-16-0-20.default.pod.cluster.local."  // web-3 exists, ready or not
        Expect.answer(try verified.query(notReadyPod), owner: notReadyPod, type: "A", ["172.16.0.20"])
        Expect.nxDomain(try verified.query("1-2-3-4.myserver.pod.cluster.local."))
        Expect.nxDomain(try verified.query("10-244-1-12.default.pod.cluster.local."))

        let insecure = try demo([])
        let anyIP = "1-2-3-4.myserver.pod.cluster.local."
        Expect.answer(try insecure.query(anyIP), owner: anyIP, type: "A", ["1.2.3.4"])

        let disabled = try demo(["--pods", "disabled"])
        Expect.nxDomain(try disabled.query(existing))
    }

    func testNamespacesExposesOnlyTheListedOnes() throws {
        let dig = try demo(["--namespaces", "myserver"])
        let tomcat = "tomcat-serivce.myserver.svc.cluster.local."
        Expect.answer(try dig.query(tomcat), owner: tomcat, type: "A", ["10.100.160.12"])
        Expect.nxDomain(try dig.query("nginx.default.svc.cluster.local."))
        Expect.nxDomain(try dig.query("default.svc.cluster.local."))
        Expect.nxDomain(try dig.query("nginx-alias.prod.svc.cluster.local."))
        Expect.nxDomain(try dig.query("1-2-3-4.default.pod.cluster.local."))
    }

    func testEndpointPodNames() throws {
        let dig = try demo(["--endpoint-pod-names"])
        let podName = "nginx-deployment-766fc9dfdd-f488k.nginx-service.myserver.svc.cluster.local."
        Expect.answer(try dig.query(podName), owner: podName, type: "A", ["10.244.1.12"])
        Expect.nxDomain(try dig.query("10-244-1-12.nginx-service.myserver.svc.cluster.local."))
        Expect.answer(
            try dig.reverse("10.244.1.12"), owner: "12.1.244.10.in-addr.arpa.", type: "PTR", [podName])
        // A hostname still wins; no targetRef keeps the dashed name.
        let web0 = "web-0.nginx-headless.default.svc.cluster.local."
        Expect.answer(try dig.query(web0), owner: web0, type: "A", ["172.16.0.31"])
        let mysql = "192-168-39-175.mysql.default.svc.cluster.local."
        Expect.answer(try dig.query(mysql), owner: mysql, type: "A", ["192.168.39.175"])
    }

    /// Address answers rotate per query (dig's IDs are random): over 50 queries each of
    /// nginx-headless's addresses comes first; `--no-shuffle` keeps one order.
    func testShuffleAndNoShuffle() throws {
        let name = "nginx-headless.default.svc.cluster.local."
        let dig = try demo([])
        var firsts: Set<String> = []
        for index in 0..<50 {
            let reply = try dig.query(name, over: index % 5 == 0 ? .tcp : .udp)
            XCTAssertEqual(reply.answers("A"), ["172.16.0.18", "172.16.0.19", "172.16.0.31"])
            if let first = reply.answer.first { firsts.insert(first.rdata) }
        }
        XCTAssertEqual(firsts, ["172.16.0.18", "172.16.0.19", "172.16.0.31"])
        let stable = try demo(["--no-shuffle"])
        let orders = try (0..<10).map { _ in try stable.query(name).answer.map(\.rdata) }
        XCTAssertEqual(Set(orders.map { $0.joined(separator: " ") }).count, 1, "\(orders)")
    }

    func testDomain() throws {
        let dig = try demo(["--domain", "k8s.example"])
        let name = "nginx-service.myserver.svc.k8s.example."
        Expect.answer(try dig.query(name), owner: name, type: "A", ["10.100.57.113"])
        Expect.nxDomain(try dig.query("nosuch.k8s.example."), soaOwner: "k8s.example.",
                        soa: Expect.clusterSOA(zone: "k8s.example."))
        Expect.answer(try dig.reverse("10.100.57.113"), owner: "113.57.100.10.in-addr.arpa.", type: "PTR", [name])
        XCTAssertEqual(try dig.query("nginx-service.myserver.svc.cluster.local.").status, "REFUSED")
    }
}
