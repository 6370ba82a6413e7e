import ClusterRegistry
import DNSWire
import XCTest

/// The KEP-1645 Multi-Cluster Services DNS specification (schema 1.0.0) with
/// `--multicluster clusterset.local`, row by row: a dual-stack ClusterSetIP import and a
/// headless import with endpoints in two clusters (one cluster id of two labels, one endpoint
/// not ready), beside a local Service of the same name. Every reply is decoded by ldns and by
/// our own decoder (`check`).
final class MulticlusterAnswerTableTests: XCTestCase {
    private static let soa = Zone.soaLine(apex: "clusterset.local.", ttl: 5, minimum: 5)

    private static let snapshot: RegistrySnapshot = {
        var configuration = TestCluster.configuration()
        configuration.multicluster = TestCluster.name("clusterset.local")
        let ports = [ServicePort(name: "tcp", port: 42, proto: .tcp), ServicePort(name: "udp", port: 42, proto: .udp)]
        func slice(_ cluster: String, _ endpoints: [Endpoint], _ family: Bool = true) -> KubernetesObject {
            .endpoints(EndpointGroup(
                serviceName: "db", namespace: "shop", origin: .multiclusterSlice(sourceCluster: cluster), endpoints: endpoints,
                ports: [EndpointPort(name: "sql", port: 5432)]))
        }
        let objects: [KubernetesObject] = [
            .namespace(Namespace(name: "shop")),
            .namespace(Namespace(name: "empty")),
            // A local Service of the same name: cluster.local keeps answering it alone.
            .service(Service(name: "hello", namespace: "shop", kind: .clusterIP([TestCluster.ip("10.0.9.9")]), ports: ports)),
            .serviceImport(Service(
                name: "hello", namespace: "shop", kind: .clusterIP([TestCluster.ip("10.42.0.1"), TestCluster.ip("fd00:42::1")]),
                ports: ports)),
            // Exported from this cluster too: its clusterset IP is the local ClusterIP, whose
            // cluster-zone PTR stays the only one.
            .serviceImport(Service(name: "local", namespace: "shop", kind: .clusterIP([TestCluster.ip("10.0.9.9")]))),
            .serviceImport(Service(name: "db", namespace: "shop", kind: .headless, ports: [ServicePort(name: "sql", port: 5432)])),
            slice("cluster-a", [
                Endpoint(addresses: [TestCluster.ip("10.1.0.5")], hostname: "db-0"),
                Endpoint(addresses: [TestCluster.ip("10.1.0.6")], ready: false),
                Endpoint(addresses: [TestCluster.ip("10.1.0.7")]),
            ]),
            slice("cluster-b.registry", [Endpoint(addresses: [TestCluster.ip("fd00:2::7")], hostname: "db-0")]),
            .serviceImport(Service(name: "idle", namespace: "shop", kind: .headless, ports: [])),
        ]
        return SnapshotBuilder.build(objects: objects, staticZones: [], configuration: configuration, serial: TestCluster.serial)
            .snapshot
    }()

    private func rr(_ owner: String, _ type: String, _ data: String, ttl: UInt32 = 5) -> String {
        "\(owner) \(ttl) IN \(type) \(data)"
    }

    private func check(_ cases: [AnswerCase], file: StaticString = #filePath) {
        check(cases, snapshot: Self.snapshot, file: file)
    }

    private static func nodata(_ name: String, _ type: RecordType, line: UInt = #line) -> AnswerCase {
        .nodata(name, type, soa: soa, line: line)
    }

    private static func nxdomain(_ name: String, _ type: RecordType = .a, line: UInt = #line) -> AnswerCase {
        .nxdomain(name, type, soa: soa, line: line)
    }

    /// §2.2: `dns-version` is "1.0.0" here (the cluster zone's stays "1.1.0"); SOA and NS at
    /// the apex; the namespace-level names exist for known namespaces.
    func testApexAndSchemaVersion() {
        check([
            AnswerCase("clusterset.local", .soa, answer: [Self.soa]),
            AnswerCase("clusterset.local", .ns, answer: [rr("clusterset.local.", "NS", "ns.dns.cluster.local.")],
                       additional: [rr("ns.dns.cluster.local.", "A", "10.96.0.10"), rr("ns.dns.cluster.local.", "AAAA", "fd00::10")]),
            AnswerCase("dns-version.clusterset.local", .txt,
                       answer: [rr("dns-version.clusterset.local.", "TXT", "\"1.0.0\"", ttl: 28800)]),
            AnswerCase("dns-version.cluster.local", .txt,
                       answer: [rr("dns-version.cluster.local.", "TXT", "\"1.1.0\"", ttl: 28800)]),
            Self.nodata("svc.clusterset.local", .a),
            Self.nodata("shop.svc.clusterset.local", .a),
            Self.nodata("empty.svc.clusterset.local", .a),
            Self.nxdomain("nosuch.svc.clusterset.local"),
            Self.nxdomain("nosuch.clusterset.local"),
            Self.nxdomain("nosuch.shop.svc.clusterset.local"),
        ])
    }

    /// §2.3: a ClusterSetIP import answers its `spec.ips` by family, SRV per named port targeting
    /// the Service name, and the bare name's SRV once per (port, target): mcs-api's conformance
    /// test expects one record for `tcp/42` and `udp/42`. No per-endpoint names (§2.3.4).
    func testClusterSetIPImport() {
        let hello = "hello.shop.svc.clusterset.local."
        check([
            AnswerCase("hello.shop.svc.clusterset.local", .a, answer: [rr(hello, "A", "10.42.0.1")]),
            AnswerCase("hello.shop.svc.clusterset.local", .aaaa, answer: [rr(hello, "AAAA", "fd00:42::1")]),
            AnswerCase("_tcp._tcp.hello.shop.svc.clusterset.local", .srv, answer: [rr("_tcp._tcp." + hello, "SRV", "0 100 42 " + hello)],
                       additional: [rr(hello, "A", "10.42.0.1"), rr(hello, "AAAA", "fd00:42::1")]),
            AnswerCase("_udp._udp.hello.shop.svc.clusterset.local", .srv, answer: [rr("_udp._udp." + hello, "SRV", "0 100 42 " + hello)],
                       additional: [rr(hello, "A", "10.42.0.1"), rr(hello, "AAAA", "fd00:42::1")]),
            AnswerCase("hello.shop.svc.clusterset.local", .srv, answer: [rr(hello, "SRV", "0 50 42 " + hello)],
                       additional: [rr(hello, "A", "10.42.0.1"), rr(hello, "AAAA", "fd00:42::1")]),
            Self.nodata("hello.shop.svc.clusterset.local", .txt),
            Self.nxdomain("_http._tcp.hello.shop.svc.clusterset.local", .srv),
            Self.nxdomain("cluster-a.hello.shop.svc.clusterset.local"),
            // cluster.local keeps the local Service only.
            AnswerCase("hello.shop.svc.cluster.local", .a, answer: [rr("hello.shop.svc.cluster.local.", "A", "10.0.9.9")]),
        ])
    }

    /// PTR (§2.3.3 and §2.4.3 as first written): a clusterset IP and a remote endpoint address
    /// point to their clusterset names; an address with a cluster-zone name keeps that one only.
    func testPointers() {
        check([
            AnswerCase("1.0.42.10.in-addr.arpa", .ptr, answer: [rr("1.0.42.10.in-addr.arpa.", "PTR", "hello.shop.svc.clusterset.local.")]),
            AnswerCase("5.0.1.10.in-addr.arpa", .ptr, answer: [rr("5.0.1.10.in-addr.arpa.", "PTR", "db-0.cluster-a.db.shop.svc.clusterset.local.")]),
            AnswerCase(
                "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa", .ptr,
                answer: [rr("7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa.", "PTR",
                            "db-0.cluster-b.registry.db.shop.svc.clusterset.local.")]),
            AnswerCase("9.9.0.10.in-addr.arpa", .ptr, answer: [rr("9.9.0.10.in-addr.arpa.", "PTR", "hello.shop.svc.cluster.local.")]),
        ])
    }

    /// §2.4: a headless import answers every ready endpoint of every cluster, names each as
    /// `<hostname>.<clusterid>.<svc>.<ns>.svc.<zone>` (the dashed address without a hostname;
    /// a two-label cluster id as is), SRV per endpoint and named port targeting those names,
    /// NXDOMAIN when none is ready, and never `<clusterid>.<svc>…` (§2.4.4).
    func testHeadlessImportAcrossClusters() {
        let db = "db.shop.svc.clusterset.local."
        let a0 = "db-0.cluster-a." + db, a7 = "10-1-0-7.cluster-a." + db, b0 = "db-0.cluster-b.registry." + db
        let additional = [rr(a0, "A", "10.1.0.5"), rr(a7, "A", "10.1.0.7"), rr(b0, "AAAA", "fd00:2::7")]
        check([
            AnswerCase("db.shop.svc.clusterset.local", .a, answer: [rr(db, "A", "10.1.0.5"), rr(db, "A", "10.1.0.7")]),
            AnswerCase("db.shop.svc.clusterset.local", .aaaa, answer: [rr(db, "AAAA", "fd00:2::7")]),
            AnswerCase("db-0.cluster-a.db.shop.svc.clusterset.local", .a, answer: [rr(a0, "A", "10.1.0.5")]),
            AnswerCase("10-1-0-7.cluster-a.db.shop.svc.clusterset.local", .a, answer: [rr(a7, "A", "10.1.0.7")]),
            AnswerCase("db-0.cluster-b.registry.db.shop.svc.clusterset.local", .aaaa, answer: [rr(b0, "AAAA", "fd00:2::7")]),
            Self.nxdomain("10-1-0-6.cluster-a.db.shop.svc.clusterset.local"),
            AnswerCase("_sql._tcp.db.shop.svc.clusterset.local", .srv, answer: [
                rr("_sql._tcp." + db, "SRV", "0 33 5432 " + a0), rr("_sql._tcp." + db, "SRV", "0 33 5432 " + a7),
                rr("_sql._tcp." + db, "SRV", "0 33 5432 " + b0),
            ], additional: additional),
            AnswerCase("db.shop.svc.clusterset.local", .srv, answer: [
                rr(db, "SRV", "0 33 5432 " + a0), rr(db, "SRV", "0 33 5432 " + a7), rr(db, "SRV", "0 33 5432 " + b0),
            ], additional: additional),
            // The cluster-level names exist only as empty non-terminals above endpoint names:
            // the spec reserves them (§2.4.4) and they hold no records.
            Self.nodata("cluster-a.db.shop.svc.clusterset.local", .a),
            // No ready endpoint: NXDOMAIN, like a headless Service of the cluster zone.
            Self.nxdomain("idle.shop.svc.clusterset.local"),
            .nxdomain("db.shop.svc.cluster.local"),
        ])
    }
}
