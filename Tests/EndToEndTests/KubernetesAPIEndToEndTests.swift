import DNSTestSupport
import Foundation
import XCTest

/// The real binary with `--kubeconfig` against a test API server speaking the real list/watch
/// protocol: not ready and SERVFAIL for cluster names until the first sync, then answers that
/// follow ADDED/MODIFIED/DELETED events.
final class KubernetesAPIEndToEndTests: XCTestCase {
    typealias API = FakeKubernetesAPIServer
    private let servers = ServerGroup()
    private var api: API!
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws {
        api = try API.start()
        api.requiredBearerToken = "e2e-token"
        scratch = try TemporaryDirectory(prefix: "clusterdns-kubeconfig")
    }

    override func tearDown() {
        servers.stopAll()
        api.stop()
        scratch.remove()
    }

    private func kubeconfig() throws -> String {
        try scratch.write("config", """
            apiVersion: v1
            kind: Config
            current-context: test
            clusters: [{name: fake, cluster: {server: "\(api.url)"}}]
            contexts: [{name: test, context: {cluster: fake, user: dns}}]
            users: [{name: dns, user: {token: e2e-token}}]
            """)
    }

    private func startServer() throws -> (ServerProcess, ready: Int) {
        let server = try servers.start(
            manifests: nil, arguments: ["--kubeconfig", try kubeconfig(), "--ready-listen", "127.0.0.2:0", "--health-listen", "127.0.0.1:0"])
        let probes = try XCTUnwrap(LameduckTests.probePorts(in: server.stdout), "no probes line:\n\(server.stdout)")
        return (server, probes.ready)
    }

    private func ready(_ port: Int) -> HTTP.Response? {
        try? HTTP.get("/ready", host: "127.0.0.2", port: port)
    }

    func testNotReadyAndServfailUntilSyncedThenAnswersFollowEvents() throws {
        api.put(.namespaces, API.namespace(name: "shop"))
        api.put(.services, API.service(namespace: "shop", name: "web", clusterIP: "10.96.0.10", ports: [("http", 80, "TCP")]))
        api.put(.services, API.service(namespace: "shop", name: "db", ports: [("pg", 5432, "TCP")], headless: true))
        api.put(.endpointSlices, API.endpointSlice(
            namespace: "shop", name: "db-7xk2p", service: "db", addresses: [("10.1.0.7", true, "db-0", "db-0")],
            ports: [("pg", 5432, "TCP")]))
        api.holdLists = true

        let (server, readyPort) = try startServer()
        XCTAssertTrue(server.stdout.contains("watching the Kubernetes API at \(api.url)"), server.stdout)
        XCTAssertTrue(Subprocess.poll(until: Date().addingTimeInterval(5)) { api.heldListCount > 0 }, "no list request arrived")
        let before = try XCTUnwrap(ready(readyPort))
        XCTAssertEqual(before.status, 503)
        XCTAssertTrue(before.body.contains("Kubernetes API sync"), before.body)
        let early = try server.dig.query("web.shop.svc.cluster.local")
        XCTAssertEqual(early.status, "SERVFAIL", "no false NXDOMAIN before the first sync\n\(early)")

        api.holdLists = false
        XCTAssertTrue(Subprocess.poll(until: Date().addingTimeInterval(10)) { ready(readyPort)?.status == 200 }, server.stderr)
        XCTAssertEqual(try server.dig.short("web.shop.svc.cluster.local"), ["10.96.0.10"])
        XCTAssertEqual(try server.dig.short("db.shop.svc.cluster.local"), ["10.1.0.7"])
        XCTAssertEqual(try server.dig.short("db-0.db.shop.svc.cluster.local"), ["10.1.0.7"])
        XCTAssertEqual(try server.dig.short("_pg._tcp.db.shop.svc.cluster.local", "SRV"), ["0 100 5432 db-0.db.shop.svc.cluster.local."])
        XCTAssertEqual(try server.dig.query("nothing.shop.svc.cluster.local").status, "NXDOMAIN")

        api.put(.services, API.service(namespace: "shop", name: "new", clusterIP: "10.96.0.20"))
        XCTAssertTrue(eventually { try server.dig.short("new.shop.svc.cluster.local") == ["10.96.0.20"] }, "ADDED not served")
        api.put(.services, API.service(namespace: "shop", name: "new", clusterIP: "10.96.0.21"))
        XCTAssertTrue(eventually { try server.dig.short("new.shop.svc.cluster.local") == ["10.96.0.21"] }, "MODIFIED not served")
        api.put(.endpointSlices, API.endpointSlice(
            namespace: "shop", name: "db-7xk2p", service: "db",
            addresses: [("10.1.0.7", true, "db-0", "db-0"), ("10.1.0.8", true, "db-1", "db-1")], ports: [("pg", 5432, "TCP")]))
        XCTAssertTrue(eventually { try server.dig.short("db.shop.svc.cluster.local") == ["10.1.0.7", "10.1.0.8"] }, "slice change not served")
        api.delete(.services, namespace: "shop", name: "new")
        XCTAssertTrue(eventually { try server.dig.query("new.shop.svc.cluster.local").status == "NXDOMAIN" }, "DELETED not served")

        // A dropped watch is resumed; the server stays ready and keeps the data meanwhile.
        api.dropWatches()
        XCTAssertEqual(try server.dig.short("web.shop.svc.cluster.local"), ["10.96.0.10"])
        api.put(.services, API.service(namespace: "shop", name: "after-drop", clusterIP: "10.96.0.30"))
        XCTAssertTrue(eventually { try server.dig.short("after-drop.shop.svc.cluster.local") == ["10.96.0.30"] }, server.stderr)
        XCTAssertEqual(ready(readyPort)?.status, 200)
        XCTAssertTrue(api.requests.allSatisfy { $0.authorization == "Bearer e2e-token" })
        XCTAssertTrue(api.requests.allSatisfy { $0.path != API.Resource.pods.path }, "pods are not watched unless needed")
    }

    func testPodsAreWatchedForVerifiedPodRecords() throws {
        api.put(.pods, API.pod(namespace: "shop", name: "web-0", ip: "10.1.0.5"))
        let server = try servers.start(manifests: nil, arguments: ["--kubeconfig", try kubeconfig(), "--pods", "verified"])
        XCTAssertTrue(eventually { try server.dig.short("10-1-0-5.shop.pod.cluster.local") == ["10.1.0.5"] }, server.stderr)
        XCTAssertEqual(try server.dig.query("10-1-0-6.shop.pod.cluster.local").status, "NXDOMAIN")
    }

    /// `--multicluster`: ServiceImports are listed and watched (v1beta1), and their slices,
    /// which carry only the multicluster labels, come with the EndpointSlices.
    func testServiceImportsAreWatchedWithMulticluster() throws {
        api.put(.namespaces, API.namespace(name: "shop"))
        api.put(.serviceImports, #"""
            {"apiVersion":"multicluster.x-k8s.io/v1beta1","kind":"ServiceImport","metadata":{"name":"hello","namespace":"shop",
             "uid":"7c1d","resourceVersion":"1","creationTimestamp":"2024-01-01T00:00:00Z"},
             "spec":{"type":"ClusterSetIP","ips":["10.42.0.1"],"ipFamilies":["IPv4"],"ports":[{"name":"tcp","protocol":"TCP","port":42}]},
             "status":{"clusters":[{"cluster":"cluster-a"}]}}
            """#)
        api.put(.serviceImports, #"""
            {"apiVersion":"multicluster.x-k8s.io/v1beta1","kind":"ServiceImport","metadata":{"name":"db","namespace":"shop"},
             "spec":{"type":"Headless","ports":[{"name":"sql","protocol":"TCP","port":5432}]}}
            """#)
        api.put(.endpointSlices, #"""
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"db-a","namespace":"shop",
             "labels":{"multicluster.kubernetes.io/service-name":"db","multicluster.kubernetes.io/source-cluster":"cluster-a",
             "endpointslice.kubernetes.io/managed-by":"mcs-controller"}},"addressType":"IPv4",
             "endpoints":[{"addresses":["10.1.0.5"],"hostname":"db-0","conditions":{"ready":true}}],
             "ports":[{"name":"sql","protocol":"TCP","port":5432}]}
            """#)
        let server = try servers.start(manifests: nil, arguments: ["--kubeconfig", try kubeconfig(), "--multicluster", "clusterset.local"])
        let deadline = Date().addingTimeInterval(10)
        while (try? server.dig.short("hello.shop.svc.clusterset.local")) != ["10.42.0.1"], Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(try server.dig.short("hello.shop.svc.clusterset.local"), ["10.42.0.1"])
        XCTAssertEqual(try server.dig.short("db-0.cluster-a.db.shop.svc.clusterset.local"), ["10.1.0.5"])
        XCTAssertEqual(try server.dig.short("dns-version.clusterset.local", "TXT"), ["\"1.0.0\""])
        XCTAssertTrue(api.requests.contains { $0.path.hasPrefix("/apis/multicluster.x-k8s.io/v1beta1/serviceimports") })

        // A watch event: the import goes away, its name with it.
        api.delete(.serviceImports, namespace: "shop", name: "hello")
        let gone = Date().addingTimeInterval(5)
        while (try? server.dig.query("hello.shop.svc.clusterset.local").status) != "NXDOMAIN", Date() < gone {
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertEqual(try server.dig.query("hello.shop.svc.clusterset.local").status, "NXDOMAIN")
    }

    /// `clusterdns explain --kubeconfig`: one full list of the live cluster, and slices named as
    /// the API names them.
    func testExplainReadsALiveCluster() throws {
        api.put(.namespaces, API.namespace(name: "shop"))
        api.put(.services, API.service(namespace: "shop", name: "db", ports: [("pg", 5432, "TCP")], headless: true))
        api.put(.endpointSlices, API.endpointSlice(
            namespace: "shop", name: "db-7xk2p", service: "db", addresses: [("10.1.0.7", true, "db-0", "db-0"), ("10.1.0.8", false, "db-1", "db-1")],
            ports: [("pg", 5432, "TCP")]))
        let result = try Subprocess.run(
            try PackagePaths.binary(), ["explain", "db-0.db.shop.svc.cluster.local", "--kubeconfig", try kubeconfig()], timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, """
            db-0.db.shop.svc.cluster.local. A: NOERROR
              db-0.db.shop.svc.cluster.local. 5 IN A 10.1.0.7
                from EndpointSlice shop/db-7xk2p endpoints[0] (ready, hostname db-0)

            """)
        let missing = try Subprocess.run(
            try PackagePaths.binary(), ["explain", "db-1.db.shop.svc.cluster.local", "--kubeconfig", try kubeconfig()], timeout: 30)
        XCTAssertTrue(missing.stdout.contains("why: no ready endpoint named `db-1` in Service `db`; its endpoint names: db-0"), missing.stdout)
    }

    /// `--node-local-upstream`: until the API has been listed, cluster names are asked of the
    /// cluster DNS Service (here NSD) instead of answered SERVFAIL; reverse names we do not hold
    /// go there too. After the list, our own registry answers.
    func testNodeLocalUpstreamAnswersUntilSynced() throws {
        let upstream = try NSDServer(zones: [
            "cluster.local": """
                $ORIGIN cluster.local.
                @ 5 IN SOA ns.dns hostmaster 1 7200 1800 86400 5
                @ 5 IN NS ns.dns
                ns.dns 5 IN A 10.96.0.10
                web.shop.svc 5 IN A 10.9.9.9

                """,
            "10.in-addr.arpa": """
                $ORIGIN 10.in-addr.arpa.
                @ 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5
                @ 5 IN NS ns.dns.cluster.local.
                9.9.9 5 IN PTR web.shop.svc.cluster.local.

                """,
        ])
        defer { upstream.stop() }
        api.put(.namespaces, API.namespace(name: "shop"))
        api.put(.services, API.service(namespace: "shop", name: "web", clusterIP: "10.96.0.20"))
        api.holdLists = true
        let server = try servers.start(
            manifests: nil, arguments: ["--kubeconfig", try kubeconfig(), "--node-local-upstream", "127.0.0.1:\(upstream.port)"])
        XCTAssertEqual(try server.dig.short("web.shop.svc.cluster.local"), ["10.9.9.9"], "from the cluster DNS while unsynced")
        XCTAssertEqual(try server.dig.short("9.9.9.10.in-addr.arpa", "PTR"), ["web.shop.svc.cluster.local."])
        api.holdLists = false
        let deadline = Date().addingTimeInterval(10)
        while (try? server.dig.short("web.shop.svc.cluster.local")) != ["10.96.0.20"], Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(try server.dig.short("web.shop.svc.cluster.local"), ["10.96.0.20"], "our own answer once synced")
    }

    /// Without `--multicluster`, no ServiceImport is asked for.
    func testServiceImportsAreNotWatchedWithoutMulticluster() throws {
        api.put(.namespaces, API.namespace(name: "shop"))
        let server = try servers.start(manifests: nil, arguments: ["--kubeconfig", try kubeconfig()])
        let deadline = Date().addingTimeInterval(10)
        while (try? server.dig.query("shop.svc.cluster.local").status) != "NOERROR", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(try server.dig.query("shop.svc.cluster.local").status, "NOERROR", "synced")
        XCTAssertFalse(api.requests.contains { $0.path.contains("serviceimports") })
    }

    func testManifestsAndKubernetesExcludeEachOther() throws {
        let result = try Subprocess.run(
            try PackagePaths.binary(), ["serve", "--manifests", PackagePaths.demoManifests, "--kubeconfig", try kubeconfig()],
            timeout: 10)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("exclude each other"), result.stderr)
    }

    /// Polls `condition` (dig calls) for up to 5 s.
    private func eventually(_ condition: () throws -> Bool) -> Bool {
        Subprocess.poll(until: Date().addingTimeInterval(5)) { (try? condition()) ?? false }
    }
}
