import ClusterRegistry
import DNSResponder
import DNSWire
import XCTest

/// The same cluster under the `serve` flags that change answers: `--pods`, `--namespaces`,
/// `--endpoint-pod-names`, `--domain`, `--ttl`.
final class ConfigurationVariantTests: XCTestCase {
    private func rr(_ owner: String, _ type: String, _ data: String, ttl: UInt32 = 5) -> String {
        "\(owner) \(ttl) IN \(type) \(data)"
    }

    private func assertForwarded(
        _ name: String, _ type: RecordType, snapshot: RegistrySnapshot, file: StaticString = #filePath, line: UInt = #line
    ) {
        let outcome = Harness.exchange(TestQuery(name: name, type: type), snapshot: snapshot).outcome
        XCTAssertEqual(outcome, .forward(sizeLimit: 512), "\(name) \(type)", file: file, line: line)
    }

    // MARK: An API source before its first sync

    /// Until the Kubernetes API has been listed, every cluster name is SERVFAIL (CoreDNS: "will
    /// answer SERVFAIL to any request made for a Kubernetes record that has not yet been
    /// synchronized"): a false NXDOMAIN would be cached by clients. Other zones are unaffected.
    func testUnsyncedClusterZoneAnswersServfail() {
        let unsynced = SnapshotBuilder.build(
            objects: [], staticZones: [TestCluster.staticZone()], configuration: TestCluster.configuration(),
            clusterSynced: false
        ).snapshot
        for name in ["svc1.testns.svc.cluster.local", "cluster.local", "dns-version.cluster.local", "1-2-3-4.testns.pod.cluster.local"] {
            let exchange = Harness.exchange(TestQuery(name: name, type: .a), snapshot: unsynced)
            guard case .reply(let length, .servFail) = exchange.outcome else { return XCTFail("\(name): \(exchange.outcome)") }
            XCTAssertGreaterThan(length, 12, "the question is echoed")
        }
        let zoneFile = Harness.exchange(TestQuery(name: "www.example.internal", type: .a), snapshot: unsynced)
        guard case .reply(_, .noError) = zoneFile.outcome else { return XCTFail("\(zoneFile.outcome)") }
        assertForwarded("example.com", .a, snapshot: unsynced)
        assertForwarded("1.0.0.10.in-addr.arpa", .ptr, snapshot: unsynced)
    }

    // MARK: --pods

    /// `disabled`: nothing under `pod.<zone>` exists. CoreDNS (findPods → errNoItems) answers
    /// NXDOMAIN for `pod.<zone>` and `<ns>.pod.<zone>` too.
    func testPodsDisabled() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(pods: .disabled))
        check([
            .nxdomain("1-2-3-4.testns.pod.cluster.local"),
            .nxdomain("172-17-0-1.testns.pod.cluster.local"),
            .nxdomain("fd00--99.testns.pod.cluster.local", .aaaa),
            .nxdomain("testns.pod.cluster.local"),
            .nxdomain("pod.cluster.local"),
            // Services are unaffected.
            AnswerCase("svc1.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("svc1"), "A", "10.0.0.1")]),
            .nodata("testns.svc.cluster.local", .a),
        ], snapshot: snapshot)
    }

    /// `verified`: only addresses of Pod objects in that namespace answer.
    func testPodsVerified() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(pods: .verified))
        check([
            AnswerCase("172-17-0-1.testns.pod.cluster.local", .a,
                       answer: [rr("172-17-0-1.testns.pod.cluster.local.", "A", "172.17.0.1")]),
            .nodata("172-17-0-1.testns.pod.cluster.local", .aaaa),
            AnswerCase("fd00--99.testns.pod.cluster.local", .aaaa,
                       answer: [rr("fd00--99.testns.pod.cluster.local.", "AAAA", "fd00::99")]),
            .nodata("fd00--99.testns.pod.cluster.local", .a),
            AnswerCase("10-9-9-9.podonly.pod.cluster.local", .a,
                       answer: [rr("10-9-9-9.podonly.pod.cluster.local.", "A", "10.9.9.9")]),
            // A pod that exists answers whether or not it is ready (sel-b is not).
            AnswerCase("172-17-5-2.testns.pod.cluster.local", .a,
                       answer: [rr("172-17-5-2.testns.pod.cluster.local.", "A", "172.17.5.2")]),
            .nxdomain("1-2-3-4.testns.pod.cluster.local"),  // no such pod
            .nxdomain("10-9-9-9.testns.pod.cluster.local"),  // the pod lives in podonly
            .nxdomain("172-17-0-1.emptyns.pod.cluster.local"),
            .nxdomain("1-2-3-4.nosuch.pod.cluster.local"),
            .nodata("pod.cluster.local", .a),
            .nodata("testns.pod.cluster.local", .a),
            .nodata("emptyns.pod.cluster.local", .a),
        ], snapshot: snapshot)
    }

    // MARK: --namespaces

    /// Only `testns`, `emptyns` and `ghost` (listed but holding no object) are exposed.
    func testNamespaceRestriction() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(namespaces: ["testns", "emptyns", "ghost"]))
        check([
            AnswerCase("svc1.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("svc1"), "A", "10.0.0.1")]),
            AnswerCase("1-2-3-4.testns.pod.cluster.local", .a,
                       answer: [rr("1-2-3-4.testns.pod.cluster.local.", "A", "1.2.3.4")]),
            .nodata("testns.svc.cluster.local", .a),
            .nodata("emptyns.svc.cluster.local", .a),
            .nxdomain("svc1.other.svc.cluster.local"),
            .nxdomain("other.svc.cluster.local"),
            .nxdomain("other.pod.cluster.local"),
            .nxdomain("1-2-3-4.other.pod.cluster.local"),
            .nxdomain("podonly.svc.cluster.local"),
            // Exposed but nonexistent: still unknown (CoreDNS: namespaceExposed needs the namespace).
            .nxdomain("ghost.svc.cluster.local"),
            AnswerCase("1.0.0.10.in-addr.arpa", .ptr, answer: [rr("1.0.0.10.in-addr.arpa.", "PTR", Zone.svc("svc1"))]),
        ], snapshot: snapshot)
        // other/svc1's ClusterIP is not ours to name (CoreDNS skips unexposed namespaces in
        // reverse lookups), so the PTR query falls through to the upstreams.
        assertForwarded("1.1.0.10.in-addr.arpa", .ptr, snapshot: snapshot)
    }

    // MARK: --endpoint-pod-names

    func testEndpointPodNames() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(endpointPodNames: true))
        let svc1 = Zone.svc("svc1"), hdls = Zone.svc("hdls")
        let targets = ["web-0", "web-1", "hdls-pod-4", "web-dup", "172-17-1-5"]
        check([
            // No hostname, pod targetRef: named after the pod.
            AnswerCase("svc1-pod-a.svc1.testns.svc.cluster.local", .a,
                       answer: [rr("svc1-pod-a." + svc1, "A", "172.17.0.1")]),
            .nxdomain("172-17-0-1.svc1.testns.svc.cluster.local"),
            // The hostname still wins.
            AnswerCase("svc1-host.svc1.testns.svc.cluster.local", .a,
                       answer: [rr("svc1-host." + svc1, "A", "172.17.0.2")]),
            AnswerCase("hdls-pod-4.hdls.testns.svc.cluster.local", .a,
                       answer: [rr("hdls-pod-4." + hdls, "A", "172.17.1.4")]),
            .nxdomain("172-17-1-4.hdls.testns.svc.cluster.local"),
            // A 64-character pod name is no label: the dashed IP stays.
            AnswerCase("172-17-1-5.hdls.testns.svc.cluster.local", .a,
                       answer: [rr("172-17-1-5." + hdls, "A", "172.17.1.5")]),
            // No targetRef (v1 Endpoints here): the dashed IP stays.
            AnswerCase("192-168-1-1.manual.testns.svc.cluster.local", .a,
                       answer: [rr("192-168-1-1." + Zone.svc("manual"), "A", "192.168.1.1")]),
            // Also as SRV targets and PTR data.
            AnswerCase("_http._tcp.hdls.testns.svc.cluster.local", .srv,
                       answer: targets.map { rr("_http._tcp." + hdls, "SRV", "0 20 8080 \($0).\(hdls)") },
                       additional: [
                           rr("web-0." + hdls, "A", "172.17.1.1"), rr("web-1." + hdls, "A", "172.17.1.2"),
                           rr("hdls-pod-4." + hdls, "A", "172.17.1.4"), rr("web-dup." + hdls, "A", "172.17.1.2"),
                           rr("172-17-1-5." + hdls, "A", "172.17.1.5"),
                       ]),
            AnswerCase("4.1.17.172.in-addr.arpa", .ptr,
                       answer: [rr("4.1.17.172.in-addr.arpa.", "PTR", "hdls-pod-4." + hdls)]),
            AnswerCase("1.0.17.172.in-addr.arpa", .ptr,
                       answer: [rr("1.0.17.172.in-addr.arpa.", "PTR", "svc1-pod-a." + svc1)]),
        ], snapshot: snapshot)
    }

    // MARK: --domain, --ttl

    func testCustomDomainAndTTL() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(domain: "K8s.Test", ttl: 30))
        let soa = Zone.soaLine(apex: "k8s.test.", domain: "k8s.test.", ttl: 30, minimum: 30)
        let svc1 = "svc1.testns.svc.k8s.test."
        check([
            AnswerCase("k8s.test", .soa, answer: [soa]),
            AnswerCase("k8s.test", .ns, answer: [rr("k8s.test.", "NS", "ns.dns.k8s.test.", ttl: 30)],
                       additional: [rr("ns.dns.k8s.test.", "A", "10.96.0.10", ttl: 30),
                                    rr("ns.dns.k8s.test.", "AAAA", "fd00::10", ttl: 30)]),
            AnswerCase("svc1.testns.svc.k8s.test", .a, answer: [rr(svc1, "A", "10.0.0.1", ttl: 30)]),
            AnswerCase("_http._tcp.svc1.testns.svc.k8s.test", .srv,
                       answer: [rr("_http._tcp." + svc1, "SRV", "0 100 80 " + svc1, ttl: 30)],
                       additional: [rr(svc1, "A", "10.0.0.1", ttl: 30)]),
            // The spec fixes the dns-version TTL.
            AnswerCase("dns-version.k8s.test", .txt, answer: [rr("dns-version.k8s.test.", "TXT", "\"1.1.0\"", ttl: 28800)]),
            AnswerCase("1.0.0.10.in-addr.arpa", .ptr, answer: [rr("1.0.0.10.in-addr.arpa.", "PTR", svc1, ttl: 30)]),
            AnswerCase("1-2-3-4.testns.pod.k8s.test", .a,
                       answer: [rr("1-2-3-4.testns.pod.k8s.test.", "A", "1.2.3.4", ttl: 30)]),
            .nodata("svc1.testns.svc.k8s.test", .aaaa, soa: soa),
            .nxdomain("nosuch.testns.svc.k8s.test", soa: soa),
            // Static zones keep their own TTLs.
            AnswerCase("www.example.internal", .a, answer: [rr("www.example.internal.", "A", "192.168.39.80", ttl: 300)]),
        ], snapshot: snapshot)
        // The default domain is no longer ours.
        assertForwarded("svc1.testns.svc.cluster.local", .a, snapshot: snapshot)
        // alias points at svc1.testns.svc.cluster.local, now outside our zones: chase it.
        let alias = Harness.exchange(TestQuery(name: "alias.testns.svc.k8s.test", type: .a), snapshot: snapshot)
        XCTAssertEqual(alias.outcome, .chase(length: alias.reply.count, target: TestCluster.name("svc1.testns.svc.cluster.local"),
                                             type: .a, sizeLimit: 512))
        verifyPacket(alias.reply, query: TestQuery(name: "alias.testns.svc.k8s.test", type: .a), label: "alias chase")
    }

    /// SOA TTL = min(ttl, 300); the SOA minimum field is the configured TTL (DESIGN §1).
    func testLongTTLCapsSOA() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(ttl: 600))
        let soa = Zone.soaLine(apex: "cluster.local.", ttl: 300, minimum: 600)
        check([
            AnswerCase("cluster.local", .soa, answer: [soa]),
            AnswerCase("svc1.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("svc1"), "A", "10.0.0.1", ttl: 600)]),
            .nodata("svc1.testns.svc.cluster.local", .aaaa, soa: soa),
            .nxdomain("nosuch.testns.svc.cluster.local", soa: soa),
        ], snapshot: snapshot)
    }

    // MARK: --single-ptr

    /// One PTR per address (issue #13): a hostname beats the Service whose ClusterIP the address
    /// also is; a ClusterIP's Service beats an endpoint named after its address; otherwise the
    /// smallest name wins, across namespaces too. Without the flag every name keeps its PTR.
    func testSinglePointer() {
        func ip(_ text: String) -> IPAddress { TestCluster.ip(text) }
        func slice(_ service: String, _ namespace: String, _ endpoints: [Endpoint]) -> KubernetesObject {
            .endpoints(EndpointGroup(
                serviceName: service, namespace: namespace, origin: .endpointSlice, endpoints: endpoints,
                ports: [EndpointPort(name: "http", port: 80)]))
        }
        let extra: [KubernetesObject] = [
            // 10.0.9.1: the ClusterIP of web, and the address of db's endpoint db-0.
            .service(Service(name: "web", namespace: "testns", kind: .clusterIP([ip("10.0.9.1")]))),
            .service(Service(name: "db", namespace: "testns", kind: .headless)),
            slice("db", "testns", [Endpoint(addresses: [ip("10.0.9.1")], hostname: "db-0")]),
            // 10.0.9.2: the ClusterIP of api, and an endpoint of zz without a hostname.
            .service(Service(name: "api", namespace: "testns", kind: .clusterIP([ip("10.0.9.2")]))),
            .service(Service(name: "zz", namespace: "testns", kind: .headless)),
            slice("zz", "testns", [Endpoint(addresses: [ip("10.0.9.2")]), Endpoint(addresses: [ip("10.0.9.3")])]),
            // 10.0.9.3: endpoints without hostnames in two namespaces.
            .service(Service(name: "aa", namespace: "other", kind: .headless)),
            slice("aa", "other", [Endpoint(addresses: [ip("10.0.9.3")])]),
        ]
        func snapshot(single: Bool) -> RegistrySnapshot {
            var configuration = TestCluster.configuration()
            configuration.singlePointer = single
            return SnapshotBuilder.build(
                objects: TestCluster.objects + extra, staticZones: [TestCluster.staticZone()], configuration: configuration,
                serial: TestCluster.serial
            ).snapshot
        }
        let hdls = Zone.svc("hdls")
        check([
            AnswerCase("1.9.0.10.in-addr.arpa", .ptr, answer: [rr("1.9.0.10.in-addr.arpa.", "PTR", "db-0." + Zone.svc("db"))]),
            AnswerCase("2.9.0.10.in-addr.arpa", .ptr, answer: [rr("2.9.0.10.in-addr.arpa.", "PTR", Zone.svc("api"))]),
            AnswerCase("3.9.0.10.in-addr.arpa", .ptr,
                       answer: [rr("3.9.0.10.in-addr.arpa.", "PTR", "10-0-9-3." + Zone.svc("aa", "other"))]),
            // Two hostnames in one headless Service: the smaller.
            AnswerCase("2.1.17.172.in-addr.arpa", .ptr, answer: [rr("2.1.17.172.in-addr.arpa.", "PTR", "web-1." + hdls)]),
            // A single PTR is untouched.
            AnswerCase("1.0.0.10.in-addr.arpa", .ptr, answer: [rr("1.0.0.10.in-addr.arpa.", "PTR", Zone.svc("svc1"))]),
        ], snapshot: snapshot(single: true))
        check([
            AnswerCase("1.9.0.10.in-addr.arpa", .ptr, answer: [
                rr("1.9.0.10.in-addr.arpa.", "PTR", Zone.svc("web")), rr("1.9.0.10.in-addr.arpa.", "PTR", "db-0." + Zone.svc("db")),
            ]),
            AnswerCase("3.9.0.10.in-addr.arpa", .ptr, answer: [
                rr("3.9.0.10.in-addr.arpa.", "PTR", "10-0-9-3." + Zone.svc("zz")),
                rr("3.9.0.10.in-addr.arpa.", "PTR", "10-0-9-3." + Zone.svc("aa", "other")),
            ]),
        ], snapshot: snapshot(single: false))
    }

    /// Reverse answers off: PTR questions are not ours.
    func testReverseDisabled() {
        let snapshot = TestCluster.snapshot(TestCluster.configuration(reverse: false))
        assertForwarded("1.0.0.10.in-addr.arpa", .ptr, snapshot: snapshot)
        check(AnswerCase("svc1.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("svc1"), "A", "10.0.0.1")]),
              snapshot: snapshot)
    }
}
