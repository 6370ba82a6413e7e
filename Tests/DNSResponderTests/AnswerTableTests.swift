import ClusterRegistry
import DNSResponder
import DNSWire
import XCTest

/// DESIGN.md §1, row by row, over `TestCluster` with the default flags (`--domain cluster.local
/// --ttl 5 --pods insecure`). Every reply is also decoded by ldns and by our own decoder.
final class AnswerTableTests: XCTestCase {
    private let svc1 = Zone.svc("svc1")

    private func rr(_ owner: String, _ type: String, _ data: String, ttl: UInt32 = 5) -> String {
        "\(owner) \(ttl) IN \(type) \(data)"
    }

    // MARK: §1 `<zone>` SOA / NS, `dns-version`, the namespace-level names

    func testApexAndInfrastructure() {
        check([
            AnswerCase("cluster.local", .soa, answer: [Zone.soa]),
            AnswerCase("cluster.local", .ns, answer: [rr("cluster.local.", "NS", "ns.dns.cluster.local.")],
                       additional: [rr("ns.dns.cluster.local.", "A", "10.96.0.10"),
                                    rr("ns.dns.cluster.local.", "AAAA", "fd00::10")]),
            .nodata("cluster.local", .a),
            .nodata("cluster.local", .txt),
            AnswerCase("dns-version.cluster.local", .txt,
                       answer: [rr("dns-version.cluster.local.", "TXT", "\"1.1.0\"", ttl: 28800)]),
            .nodata("dns-version.cluster.local", .a),
            .nxdomain("nosuch.cluster.local"),
        ])
    }

    /// `ns.svc.<zone>`, `svc.<zone>`, `pod.<zone>` exist (NODATA) when the namespace exists;
    /// unknown namespaces are NXDOMAIN. A namespace exists by a Namespace object or by any
    /// object living in it (`podonly` has only a Pod).
    func testNamespaceLevelNames() {
        check([
            .nodata("svc.cluster.local", .a),
            .nodata("pod.cluster.local", .a),
            .nodata("testns.svc.cluster.local", .a),
            .nodata("testns.svc.cluster.local", .srv),
            .nodata("emptyns.svc.cluster.local", .a),
            .nodata("podonly.svc.cluster.local", .a),
            .nodata("testns.pod.cluster.local", .a),
            .nodata("emptyns.pod.cluster.local", .a),
            .nxdomain("nosuch.svc.cluster.local"),
            .nxdomain("nosuch.pod.cluster.local"),
            .nxdomain("svc1.nosuch.svc.cluster.local"),
            .nxdomain("nosuch.testns.svc.cluster.local"),
            .nxdomain("svc1.testns.cluster.local"),
        ])
    }

    // MARK: §1 ClusterIP services

    func testClusterIPServices() {
        check([
            AnswerCase("svc1.testns.svc.cluster.local", .a, answer: [rr(svc1, "A", "10.0.0.1")]),
            // Other family only: NODATA, never NXDOMAIN.
            .nodata("svc1.testns.svc.cluster.local", .aaaa),
            // Name exists, type absent.
            .nodata("svc1.testns.svc.cluster.local", .txt),
            .nodata("svc1.testns.svc.cluster.local", .cname),
            .nodata("svc1.testns.svc.cluster.local", .ptr),
            .nodata("svc1.testns.svc.cluster.local", .soa),
            .nodata("svc1.testns.svc.cluster.local", .ns),
            .nodata("svc1.testns.svc.cluster.local", RecordType(rawValue: 65280)),
            // Dual-stack: each family answers its own ClusterIP (`spec.clusterIPs`).
            AnswerCase("dual.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("dual"), "A", "10.0.0.2")]),
            AnswerCase("dual.testns.svc.cluster.local", .aaaa, answer: [rr(Zone.svc("dual"), "AAAA", "fd00::2")]),
            .nodata("v6only.testns.svc.cluster.local", .a),
            AnswerCase("v6only.testns.svc.cluster.local", .aaaa, answer: [rr(Zone.svc("v6only"), "AAAA", "fd00::3")]),
            // A ClusterIP answers without any endpoint.
            AnswerCase("noeps.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("noeps"), "A", "10.0.0.6")]),
            // Selector-less service backed by v1 Endpoints.
            AnswerCase("manual.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("manual"), "A", "10.0.0.5")]),
            // Same service name, other namespace.
            AnswerCase("svc1.other.svc.cluster.local", .a, answer: [rr(Zone.svc("svc1", "other"), "A", "10.0.1.1")]),
        ])
    }

    // MARK: §1 headless services

    func testHeadlessServices() {
        let hdls = Zone.svc("hdls")
        check([
            // One RR per ready address, deduplicated (web-1 and web-dup share 172.17.1.2);
            // web-2 is not ready.
            AnswerCase("hdls.testns.svc.cluster.local", .a, answer: [
                rr(hdls, "A", "172.17.1.1"), rr(hdls, "A", "172.17.1.2"), rr(hdls, "A", "172.17.1.4"),
                rr(hdls, "A", "172.17.1.5"),
            ]),
            .nodata("hdls.testns.svc.cluster.local", .aaaa),
            // publishNotReadyAddresses makes the not-ready endpoint count.
            AnswerCase("pnr.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("pnr"), "A", "172.17.2.1")]),
            // No ready endpoint: the name does not exist.
            .nxdomain("hdls-empty.testns.svc.cluster.local", .a),
            .nxdomain("hdls-empty.testns.svc.cluster.local", .aaaa),
            .nxdomain("hdls-empty.testns.svc.cluster.local", .srv),
            .nxdomain("_http._tcp.hdls-empty.testns.svc.cluster.local", .srv),
            // IPv6 endpoints.
            AnswerCase("hdls-v6.testns.svc.cluster.local", .aaaa, answer: [
                rr(Zone.svc("hdls-v6"), "AAAA", "fd00:1::a"), rr(Zone.svc("hdls-v6"), "AAAA", "fd00:1::b"),
            ]),
            .nodata("hdls-v6.testns.svc.cluster.local", .a),
            // EndpointSlices take precedence over v1 Endpoints for the same service.
            AnswerCase("both.testns.svc.cluster.local", .a, answer: [rr(Zone.svc("both"), "A", "10.1.0.1")]),
            AnswerCase("10-1-0-1.both.testns.svc.cluster.local", .a,
                       answer: [rr("10-1-0-1." + Zone.svc("both"), "A", "10.1.0.1")]),
            .nxdomain("10-1-0-2.both.testns.svc.cluster.local"),
            // Dual-stack headless: each family from its own slice, one name per hostname.
            AnswerCase("hdls-dual.testns.svc.cluster.local", .a, answer: [
                rr(Zone.svc("hdls-dual"), "A", "172.17.4.1"), rr(Zone.svc("hdls-dual"), "A", "172.17.4.2"),
            ]),
            AnswerCase("hdls-dual.testns.svc.cluster.local", .aaaa, answer: [rr(Zone.svc("hdls-dual"), "AAAA", "fd00:4::1")]),
            AnswerCase("ds-0.hdls-dual.testns.svc.cluster.local", .a,
                       answer: [rr("ds-0." + Zone.svc("hdls-dual"), "A", "172.17.4.1")]),
            AnswerCase("ds-0.hdls-dual.testns.svc.cluster.local", .aaaa,
                       answer: [rr("ds-0." + Zone.svc("hdls-dual"), "AAAA", "fd00:4::1")]),
            .nodata("ds-1.hdls-dual.testns.svc.cluster.local", .aaaa),
            // Endpoints derived from selected Pods: ready pods only; the SRV port is the targetPort.
            AnswerCase("sel.testns.svc.cluster.local", .a, answer: [
                rr(Zone.svc("sel"), "A", "172.17.5.1"), rr(Zone.svc("sel"), "A", "172.17.5.3"),
            ]),
            AnswerCase("h0.sel.testns.svc.cluster.local", .a, answer: [rr("h0." + Zone.svc("sel"), "A", "172.17.5.1")]),
            AnswerCase("172-17-5-3.sel.testns.svc.cluster.local", .a,
                       answer: [rr("172-17-5-3." + Zone.svc("sel"), "A", "172.17.5.3")]),
            .nxdomain("h3.sel.testns.svc.cluster.local"),  // its subdomain names another service
            .nxdomain("172-17-5-2.sel.testns.svc.cluster.local"),  // not ready
            AnswerCase("_http._tcp.sel.testns.svc.cluster.local", .srv, answer: [
                rr("_http._tcp." + Zone.svc("sel"), "SRV", "0 50 8080 h0." + Zone.svc("sel")),
                rr("_http._tcp." + Zone.svc("sel"), "SRV", "0 50 8080 172-17-5-3." + Zone.svc("sel")),
            ], additional: [
                rr("h0." + Zone.svc("sel"), "A", "172.17.5.1"), rr("172-17-5-3." + Zone.svc("sel"), "A", "172.17.5.3"),
            ]),
        ])
    }

    // MARK: §1 `host.svc.ns.svc.<zone>`

    func testEndpointNames() {
        let hdls = Zone.svc("hdls")
        check([
            // Hostname when set, else the dashed IP; also for ClusterIP services.
            AnswerCase("172-17-0-1.svc1.testns.svc.cluster.local", .a,
                       answer: [rr("172-17-0-1." + svc1, "A", "172.17.0.1")]),
            .nodata("172-17-0-1.svc1.testns.svc.cluster.local", .aaaa),
            AnswerCase("svc1-host.svc1.testns.svc.cluster.local", .a,
                       answer: [rr("svc1-host." + svc1, "A", "172.17.0.2")]),
            .nxdomain("172-17-0-2.svc1.testns.svc.cluster.local"),  // named by its hostname
            .nxdomain("172-17-0-3.svc1.testns.svc.cluster.local"),  // not ready
            .nxdomain("svc1-pod-c.svc1.testns.svc.cluster.local"),
            .nxdomain("svc1-pod-a.svc1.testns.svc.cluster.local"),  // pod names need --endpoint-pod-names
            AnswerCase("web-0.hdls.testns.svc.cluster.local", .a, answer: [rr("web-0." + hdls, "A", "172.17.1.1")]),
            AnswerCase("web-1.hdls.testns.svc.cluster.local", .a, answer: [rr("web-1." + hdls, "A", "172.17.1.2")]),
            AnswerCase("web-dup.hdls.testns.svc.cluster.local", .a,
                       answer: [rr("web-dup." + hdls, "A", "172.17.1.2")]),
            .nodata("web-0.hdls.testns.svc.cluster.local", .aaaa),
            .nxdomain("web-2.hdls.testns.svc.cluster.local"),  // not ready
            .nxdomain("172-17-1-1.hdls.testns.svc.cluster.local"),  // named web-0
            AnswerCase("172-17-1-4.hdls.testns.svc.cluster.local", .a,
                       answer: [rr("172-17-1-4." + hdls, "A", "172.17.1.4")]),
            AnswerCase("172-17-1-5.hdls.testns.svc.cluster.local", .a,
                       answer: [rr("172-17-1-5." + hdls, "A", "172.17.1.5")]),
            AnswerCase("pnr-0.pnr.testns.svc.cluster.local", .a,
                       answer: [rr("pnr-0." + Zone.svc("pnr"), "A", "172.17.2.1")]),
            AnswerCase("fd00-1--a.hdls-v6.testns.svc.cluster.local", .aaaa,
                       answer: [rr("fd00-1--a." + Zone.svc("hdls-v6"), "AAAA", "fd00:1::a")]),
            .nodata("fd00-1--a.hdls-v6.testns.svc.cluster.local", .a),
            // v1 Endpoints: `addresses` are served, `notReadyAddresses` are not.
            AnswerCase("192-168-1-1.manual.testns.svc.cluster.local", .a,
                       answer: [rr("192-168-1-1." + Zone.svc("manual"), "A", "192.168.1.1")]),
            .nxdomain("192-168-1-2.manual.testns.svc.cluster.local"),
            .nxdomain("x.web-0.hdls.testns.svc.cluster.local"),
        ])
    }

    // MARK: §1 SRV

    func testNamedPortSRV() {
        let svcA = rr(svc1, "A", "10.0.0.1")
        let hdls = Zone.svc("hdls")
        let hdlsTargets = ["web-0", "web-1", "172-17-1-4", "web-dup", "172-17-1-5"]
        let hdlsAdditional = [
            rr("web-0." + hdls, "A", "172.17.1.1"), rr("web-1." + hdls, "A", "172.17.1.2"),
            rr("172-17-1-4." + hdls, "A", "172.17.1.4"), rr("web-dup." + hdls, "A", "172.17.1.2"),
            rr("172-17-1-5." + hdls, "A", "172.17.1.5"),
        ]
        check([
            // ClusterIP: target is the service; the SRV port is the service port.
            AnswerCase("_http._tcp.svc1.testns.svc.cluster.local", .srv,
                       answer: [rr("_http._tcp." + svc1, "SRV", "0 100 80 " + svc1)], additional: [svcA]),
            AnswerCase("_dns._udp.svc1.testns.svc.cluster.local", .srv,
                       answer: [rr("_dns._udp." + svc1, "SRV", "0 100 53 " + svc1)], additional: [svcA]),
            .nxdomain("_dns._tcp.svc1.testns.svc.cluster.local", .srv),  // dns is UDP
            .nxdomain("_http._udp.svc1.testns.svc.cluster.local", .srv),  // http is TCP
            .nxdomain("_https._tcp.svc1.testns.svc.cluster.local", .srv),
            // Unnamed ports get no `_port._proto` name at all.
            .nxdomain("_tcp.noeps.testns.svc.cluster.local", .srv),
            .nxdomain("_8080._tcp.svc1.testns.svc.cluster.local", .srv),
            .nodata("_http._tcp.svc1.testns.svc.cluster.local", .a),
            // Dual-stack target: both families in additional.
            AnswerCase("_http._tcp.dual.testns.svc.cluster.local", .srv,
                       answer: [rr("_http._tcp." + Zone.svc("dual"), "SRV", "0 100 80 " + Zone.svc("dual"))],
                       additional: [rr(Zone.svc("dual"), "A", "10.0.0.2"), rr(Zone.svc("dual"), "AAAA", "fd00::2")]),
            AnswerCase("_db._tcp.manual.testns.svc.cluster.local", .srv,
                       answer: [rr("_db._tcp." + Zone.svc("manual"), "SRV", "0 100 5432 " + Zone.svc("manual"))],
                       additional: [rr(Zone.svc("manual"), "A", "10.0.0.5")]),
            // Headless: one SRV per ready endpoint, target = endpoint name, port = endpoint
            // port (8080 from the slice), weight ⌊100/5⌋.
            AnswerCase("_http._tcp.hdls.testns.svc.cluster.local", .srv,
                       answer: hdlsTargets.map { rr("_http._tcp." + hdls, "SRV", "0 20 8080 \($0).\(hdls)") },
                       additional: hdlsAdditional),
            AnswerCase("_http._tcp.hdls-v6.testns.svc.cluster.local", .srv,
                       answer: ["fd00-1--a", "fd00-1--b"].map {
                           rr("_http._tcp." + Zone.svc("hdls-v6"), "SRV", "0 50 8080 \($0).\(Zone.svc("hdls-v6"))")
                       },
                       additional: [rr("fd00-1--a." + Zone.svc("hdls-v6"), "AAAA", "fd00:1::a"),
                                    rr("fd00-1--b." + Zone.svc("hdls-v6"), "AAAA", "fd00:1::b")]),
            AnswerCase("_http._tcp.pnr.testns.svc.cluster.local", .srv,
                       answer: [rr("_http._tcp." + Zone.svc("pnr"), "SRV", "0 100 80 pnr-0." + Zone.svc("pnr"))],
                       additional: [rr("pnr-0." + Zone.svc("pnr"), "A", "172.17.2.1")]),
            .nxdomain("x._http._tcp.svc1.testns.svc.cluster.local", .srv),
        ])
    }

    /// Bare `svc.ns.svc.<zone>` SRV lists every port, named or not (CoreDNS extension);
    /// weight ⌊100/n⌋ with n the number of SRV records.
    func testBareServiceSRV() {
        let svcA = rr(svc1, "A", "10.0.0.1")
        let hdls = Zone.svc("hdls")
        let hdlsTargets = ["web-0", "web-1", "172-17-1-4", "web-dup", "172-17-1-5"]
        check([
            AnswerCase("svc1.testns.svc.cluster.local", .srv, answer: [
                rr(svc1, "SRV", "0 33 80 " + svc1), rr(svc1, "SRV", "0 33 8080 " + svc1),
                rr(svc1, "SRV", "0 33 53 " + svc1),
            ], additional: [svcA]),
            AnswerCase("noeps.testns.svc.cluster.local", .srv,
                       answer: [rr(Zone.svc("noeps"), "SRV", "0 100 80 " + Zone.svc("noeps"))],
                       additional: [rr(Zone.svc("noeps"), "A", "10.0.0.6")]),
            AnswerCase("hdls.testns.svc.cluster.local", .srv, transport: .tcp,
                       answer: hdlsTargets.flatMap { target in
                           [8080, 9090].map { rr(hdls, "SRV", "0 10 \($0) \(target).\(hdls)") }
                       },
                       additional: [
                           rr("web-0." + hdls, "A", "172.17.1.1"), rr("web-1." + hdls, "A", "172.17.1.2"),
                           rr("172-17-1-4." + hdls, "A", "172.17.1.4"), rr("web-dup." + hdls, "A", "172.17.1.2"),
                           rr("172-17-1-5." + hdls, "A", "172.17.1.5"),
                       ]),
        ])
        // Ten SRV records with uncompressed targets do not fit 512 bytes: unshuffled, the RRset
        // goes whole (shuffled, a subset goes: AddressRotationTests, TruncationTests).
        check(AnswerCase("hdls.testns.svc.cluster.local", .srv, flags: ["qr", "aa", "tc", "rd"]),
              options: ResponderOptions(shuffle: false))
    }

    /// Empty non-terminals exist without records: NODATA, not NXDOMAIN (RFC 8020, DESIGN §3).
    /// CoreDNS answers NXDOMAIN for `_tcp.svc…`; DESIGN §3 deliberately differs.
    func testEmptyNonTerminals() {
        check([
            .nodata("_tcp.svc1.testns.svc.cluster.local", .a),
            .nodata("_tcp.svc1.testns.svc.cluster.local", .srv),
            .nodata("_udp.svc1.testns.svc.cluster.local", .srv),
            .nodata("_tcp.hdls.testns.svc.cluster.local", .srv),
            .nxdomain("_udp.hdls.testns.svc.cluster.local", .srv),
        ])
    }

    // MARK: §1 ExternalName

    func testExternalName() {
        let cname = rr(Zone.svc("alias"), "CNAME", svc1)
        check([
            AnswerCase("alias.testns.svc.cluster.local", .cname, answer: [cname]),
            // In-zone target: the CNAME and the target's records.
            AnswerCase("alias.testns.svc.cluster.local", .a, answer: [cname, rr(svc1, "A", "10.0.0.1")]),
            // The target has no AAAA: the CNAME, and (zones/cluster/EXPECTED.md, RFC 2308 §2.2)
            // the SOA in authority so the negative part can be cached. CoreDNS omits the SOA.
            AnswerCase("alias.testns.svc.cluster.local", .aaaa, answer: [cname], authority: [Zone.soa]),
            // A chain of ExternalNames inside the zone is followed to the end.
            AnswerCase("chain.testns.svc.cluster.local", .a, answer: [
                rr(Zone.svc("chain"), "CNAME", Zone.svc("alias")), cname, rr(svc1, "A", "10.0.0.1"),
            ]),
            AnswerCase("chain.testns.svc.cluster.local", .cname, answer: [rr(Zone.svc("chain"), "CNAME", Zone.svc("alias"))]),
            AnswerCase("ext.testns.svc.cluster.local", .cname,
                       answer: [rr(Zone.svc("ext"), "CNAME", "example.com.")]),
            // Named ports of an ExternalName service point at the external name (CoreDNS).
            AnswerCase("_http._tcp.ext.testns.svc.cluster.local", .srv,
                       answer: [rr("_http._tcp." + Zone.svc("ext"), "SRV", "0 100 80 example.com.")]),
            // RFC 6604 §2.1: a chain ending at a name that does not exist takes that name's
            // NXDOMAIN, with the chain in the answer and the SOA in authority (issue #11
            // item 18). The CNAME question itself is answered.
            AnswerCase("dangling.testns.svc.cluster.local", .a, rcode: "NXDOMAIN",
                       answer: [rr(Zone.svc("dangling"), "CNAME", Zone.svc("gone"))], authority: [Zone.soa]),
            AnswerCase("dangling.testns.svc.cluster.local", .cname, answer: [rr(Zone.svc("dangling"), "CNAME", Zone.svc("gone"))]),
            // A pod name is made up at query time: it exists, so the chain ends in NODATA.
            AnswerCase("podalias.testns.svc.cluster.local", .aaaa,
                       answer: [rr(Zone.svc("podalias"), "CNAME", "10-0-0-9.testns.pod.cluster.local.")], authority: [Zone.soa]),
            // An IP-literal externalName is ignored: the service has no name.
            .nxdomain("iplit.testns.svc.cluster.local", .a),
            .nxdomain("iplit.testns.svc.cluster.local", .cname),
        ])
    }

    // MARK: §1 PTR

    func testReversePointers() {
        let v6ServiceReverse = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"
        let v6EndpointReverse = "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa"
        let hdls = Zone.svc("hdls")
        check([
            // ClusterIP → service name.
            AnswerCase("1.0.0.10.in-addr.arpa", .ptr, answer: [rr("1.0.0.10.in-addr.arpa.", "PTR", svc1)]),
            AnswerCase("2.0.0.10.in-addr.arpa", .ptr, answer: [rr("2.0.0.10.in-addr.arpa.", "PTR", Zone.svc("dual"))]),
            AnswerCase(v6ServiceReverse, .ptr, answer: [rr(v6ServiceReverse + ".", "PTR", Zone.svc("dual"))]),
            AnswerCase("1.1.0.10.in-addr.arpa", .ptr,
                       answer: [rr("1.1.0.10.in-addr.arpa.", "PTR", Zone.svc("svc1", "other"))]),
            // Endpoint IP → every endpoint name that has it.
            AnswerCase("1.0.17.172.in-addr.arpa", .ptr,
                       answer: [rr("1.0.17.172.in-addr.arpa.", "PTR", "172-17-0-1." + svc1)]),
            AnswerCase("2.0.17.172.in-addr.arpa", .ptr,
                       answer: [rr("2.0.17.172.in-addr.arpa.", "PTR", "svc1-host." + svc1)]),
            AnswerCase("1.1.17.172.in-addr.arpa", .ptr, answer: [rr("1.1.17.172.in-addr.arpa.", "PTR", "web-0." + hdls)]),
            AnswerCase("2.1.17.172.in-addr.arpa", .ptr, answer: [
                rr("2.1.17.172.in-addr.arpa.", "PTR", "web-1." + hdls),
                rr("2.1.17.172.in-addr.arpa.", "PTR", "web-dup." + hdls),
            ]),
            AnswerCase("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.0.0.0.0.0.d.f.ip6.arpa", .ptr,
                       answer: [rr("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.0.0.0.0.0.d.f.ip6.arpa.", "PTR", "ds-0." + Zone.svc("hdls-dual"))]),
            AnswerCase(v6EndpointReverse, .ptr,
                       answer: [rr(v6EndpointReverse + ".", "PTR", "fd00-1--a." + Zone.svc("hdls-v6"))]),
            AnswerCase("1.1.168.192.in-addr.arpa", .ptr,
                       answer: [rr("1.1.168.192.in-addr.arpa.", "PTR", "192-168-1-1." + Zone.svc("manual"))]),
            // A name we hold, another type: NODATA with the reverse zone's SOA.
            .nodata("1.0.0.10.in-addr.arpa", .a, soa: Zone.reverseSOA),
        ])
    }

    // MARK: §1 pod names, `--pods insecure` (the default)

    func testInsecurePods() {
        check([
            AnswerCase("1-2-3-4.testns.pod.cluster.local", .a,
                       answer: [rr("1-2-3-4.testns.pod.cluster.local.", "A", "1.2.3.4")]),
            .nodata("1-2-3-4.testns.pod.cluster.local", .aaaa),
            AnswerCase("172-17-0-1.testns.pod.cluster.local", .a,
                       answer: [rr("172-17-0-1.testns.pod.cluster.local.", "A", "172.17.0.1")]),
            AnswerCase("1-2-3-4.emptyns.pod.cluster.local", .a,
                       answer: [rr("1-2-3-4.emptyns.pod.cluster.local.", "A", "1.2.3.4")]),
            AnswerCase("fd00--99.testns.pod.cluster.local", .aaaa,
                       answer: [rr("fd00--99.testns.pod.cluster.local.", "AAAA", "fd00::99")]),
            .nodata("fd00--99.testns.pod.cluster.local", .a),
            .nxdomain("1-2-3-4.nosuch.pod.cluster.local"),
            .nxdomain("not-an-ip.testns.pod.cluster.local"),
            .nxdomain("1-2-3-400.testns.pod.cluster.local"),
            .nxdomain("x.1-2-3-4.testns.pod.cluster.local"),
        ])
    }

    // MARK: static zone files (`--zones`)

    func testStaticZone() {
        let soa = Zone.staticSOA
        func at(_ label: String) -> String { label.isEmpty ? "example.internal." : label + ".example.internal." }
        check([
            AnswerCase("example.internal", .soa, answer: [soa]),
            AnswerCase("example.internal", .ns,
                       answer: [rr(at(""), "NS", at("ns1"), ttl: 300), rr(at(""), "NS", at("ns2"), ttl: 300)],
                       additional: [rr(at("ns1"), "A", "192.168.39.10", ttl: 300),
                                    rr(at("ns2"), "A", "192.168.39.11", ttl: 300)]),
            AnswerCase("example.internal", .mx,
                       answer: [rr(at(""), "MX", "10 " + at("mail"), ttl: 300),
                                rr(at(""), "MX", "20 " + at("mail-backup"), ttl: 300)],
                       additional: [rr(at("mail"), "A", "192.168.39.25", ttl: 300),
                                    rr(at("mail-backup"), "A", "192.168.39.26", ttl: 300)]),
            AnswerCase("example.internal", .txt, answer: [rr(at(""), "TXT", "\"v=spf1 mx -all\"", ttl: 300)]),
            AnswerCase("www.example.internal", .a, answer: [rr(at("www"), "A", "192.168.39.80", ttl: 300)]),
            AnswerCase("www.example.internal", .aaaa, answer: [rr(at("www"), "AAAA", "fd00:39::80", ttl: 300)]),
            AnswerCase("intranet.example.internal", .a, answer: [
                rr(at("intranet"), "CNAME", at("www"), ttl: 3600), rr(at("www"), "A", "192.168.39.80", ttl: 300),
            ]),
            AnswerCase("intranet.example.internal", .cname,
                       answer: [rr(at("intranet"), "CNAME", at("www"), ttl: 3600)]),
            AnswerCase("_mysql._tcp.example.internal", .srv,
                       answer: [rr(at("_mysql._tcp"), "SRV", "0 100 3306 " + at("db"), ttl: 300)],
                       additional: [rr(at("db"), "A", "192.168.39.175", ttl: 300),
                                    rr(at("db"), "AAAA", "fd00:39::175", ttl: 300)]),
            .nxdomain("nosuch.example.internal", soa: soa),
            .nodata("www.example.internal", .mx, soa: soa),
            .nodata("_tcp.example.internal", .a, soa: soa),
        ])
    }
}
