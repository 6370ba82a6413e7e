import Foundation
import XCTest

/// `clusterdns explain` as a user runs it: golden output for each kind of explanation (the
/// origin of each record, and why a name has no answer), the search-path walk of a glibc
/// client, and the JSON form.
final class ExplainCommandTests: XCTestCase {
    private var scratch: TemporaryDirectory?

    override func tearDown() {
        scratch?.remove()
    }

    private static let manifest = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.1.1
          ports: [{name: http, port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: shop}
        spec:
          clusterIP: None
          ports: [{name: sql, port: 5432}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: db-x7k2, namespace: shop, labels: {kubernetes.io/service-name: db}}
        addressType: IPv4
        endpoints:
        - {addresses: [10.1.0.1], conditions: {ready: false}, hostname: db-0}
        - {addresses: [10.1.0.2], conditions: {ready: false}, hostname: db-1}
        - {addresses: [10.1.0.3], conditions: {ready: false}, hostname: db-2}
        ports: [{name: sql, port: 5432}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: tomcat-serivce, namespace: shop}
        spec:
          clusterIP: 10.96.1.2
          ports: [{port: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: tomcat-abc, namespace: shop, labels: {kubernetes.io/service-name: tomcat-serivce}}
        addressType: IPv4
        endpoints:
        - {addresses: [10.1.0.9]}
        ports: [{name: http, port: 8080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: payments, namespace: shop}
        spec: {type: ExternalName, externalName: api.stripe.example}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: hidden}
        """

    /// `clusterdns explain ARGUMENTS --manifests DIR`, its output with DIR written `<dir>`.
    private func explain(_ arguments: [String]) throws -> String {
        let directory = try scratch ?? TemporaryDirectory()
        scratch = directory
        try directory.write("shop.yaml", Self.manifest)
        let result = try Subprocess.run(try PackagePaths.binary(), ["explain"] + arguments + ["--manifests", directory.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.replacingOccurrences(of: directory.path, with: "<dir>")
    }

    func testRecordOrigins() throws {
        XCTAssertEqual(try explain(["web.shop.svc.cluster.local"]), """
            web.shop.svc.cluster.local. A: NOERROR
              web.shop.svc.cluster.local. 5 IN A 10.96.1.1
                from Service shop/web spec.clusterIPs[0] — <dir>/shop.yaml: document 1, line 1

            """)
        XCTAssertEqual(try explain(["_http._tcp.web.shop.svc.cluster.local", "SRV"]), """
            _http._tcp.web.shop.svc.cluster.local. SRV: NOERROR
              _http._tcp.web.shop.svc.cluster.local. 5 IN SRV 0 100 80 web.shop.svc.cluster.local.
                from Service shop/web spec.ports[0] (http 80/TCP) — <dir>/shop.yaml: document 1, line 1

            """)
        XCTAssertEqual(try explain(["1.1.96.10.in-addr.arpa", "PTR"]), """
            1.1.96.10.in-addr.arpa. PTR: NOERROR
              1.1.96.10.in-addr.arpa. 5 IN PTR web.shop.svc.cluster.local.
                from reverse of Service shop/web spec.clusterIPs[0] — <dir>/shop.yaml: document 1, line 1

            """)
        XCTAssertEqual(try explain(["10-1-0-9.tomcat-serivce.shop.svc.cluster.local"]), """
            10-1-0-9.tomcat-serivce.shop.svc.cluster.local. A: NOERROR
              10-1-0-9.tomcat-serivce.shop.svc.cluster.local. 5 IN A 10.1.0.9
                from EndpointSlice of shop/tomcat-serivce endpoints[0] (ready) — <dir>/shop.yaml: document 5, line 32

            """)
    }

    /// One golden line per kind of "why".
    func testWhyANameHasNoAnswer() throws {
        let cases: [([String], String)] = [
            (["db.shop.svc.cluster.local"], "headless Service `db` has 3 endpoints, none ready"),
            (["tomcat-service.shop.svc.cluster.local"], "no Service `tomcat-service` in `shop`; did you mean `tomcat-serivce`?"),
            (["_http._tcp.tomcat-serivce.shop.svc.cluster.local", "SRV"],
             "`_http._tcp`: port `http` exists in the endpoints but is unnamed in the Service"),
            (["_https._tcp.web.shop.svc.cluster.local", "SRV"],
             "Service `web` has no port named `https`; SRV names exist for named ports only; its ports: http 80/TCP"),
            (["_http._udp.web.shop.svc.cluster.local", "SRV"], "port `http` of Service `web` is TCP: ask _http._tcp"),
            (["web.shop.svc.cluster.local", "AAAA"], "`web.shop.svc.cluster.local.` holds Service `web`'s IPv4 ClusterIP, no AAAA records"),
            (["db-3.db.shop.svc.cluster.local"], "no ready endpoint named `db-3` in Service `db` (it has none ready)"),
            (["web.nosuch.svc.cluster.local"], "no namespace `nosuch`"),
            (["web.shop.svc.cluster.local", "A", "--namespaces", "hidden"], "namespace `shop` is not exposed (--namespaces hidden)"),
            (["payments.shop.svc.cluster.local"],
             "the CNAME target api.stripe.example. is outside our zones: the server resolves it upstream and appends its records"),
            (["www.example.com"], "outside our zones: forwarded to the upstreams (and cached); a pod stops here if they answer"),
        ]
        for (arguments, reason) in cases {
            let output = try explain(arguments)
            XCTAssertTrue(output.contains("  why: \(reason)\n"), "\(arguments): \(output)")
        }
    }

    /// A pod in `default` looking up `web.shop`: fewer dots than ndots 5, so the search domains
    /// first; the first fails (no namespace `default`), the second answers, and glibc stops.
    func testSearchPathWalk() throws {
        XCTAssertEqual(try explain(["web.shop", "--search", "default.svc.cluster.local svc.cluster.local cluster.local"]), """
            A glibc client (ndots 5, search default.svc.cluster.local svc.cluster.local cluster.local) asks for web.shop A:
            1. web.shop.default.svc.cluster.local. A: NXDOMAIN
              why: no namespace `default`
            2. web.shop.svc.cluster.local. A: NOERROR, answers
              web.shop.svc.cluster.local. 5 IN A 10.96.1.1
                from Service shop/web spec.clusterIPs[0] — <dir>/shop.yaml: document 1, line 1

            """)
        // With as many dots as ndots the name is asked as given first: outside our zones, it is
        // forwarded, and the walk stops there if the upstreams answer.
        let walk = try explain(["a.b.c.d.nosuch", "--search", "svc.cluster.local cluster.local", "--ndots", "4"])
        let asked = walk.split(separator: "\n").filter { $0.first?.isNumber == true }.map { String($0.prefix { $0 != ":" }) }
        XCTAssertEqual(asked, ["1. a.b.c.d.nosuch. A"], walk)
        // With fewer, the search domains first and the name as given last: none answers.
        let missing = try explain(["nosuch", "--search", "shop.svc.cluster.local svc.cluster.local", "--ndots", "1"])
        XCTAssertEqual(
            missing.split(separator: "\n").filter { $0.first?.isNumber == true }.map { String($0.prefix { $0 != ":" }) },
            ["1. nosuch.shop.svc.cluster.local. A", "2. nosuch.svc.cluster.local. A", "3. nosuch. A"], missing)
    }

    func testJSONForTools() throws {
        let output = try explain(["web.shop", "--search", "default.svc.cluster.local svc.cluster.local", "--json"])
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let queries = try XCTUnwrap(report["queries"] as? [[String: Any]])
        XCTAssertEqual(queries.map { $0["outcome"] as? String }, ["NXDOMAIN", "NOERROR"])
        XCTAssertEqual(queries.map { $0["answered"] as? Bool }, [false, true])
        let answers = try XCTUnwrap(queries[1]["answers"] as? [[String: String]])
        XCTAssertEqual(answers.first?["record"], "web.shop.svc.cluster.local. 5 IN A 10.96.1.1")
        XCTAssertEqual(answers.first?["from"], "Service shop/web spec.clusterIPs[0] — <dir>/shop.yaml: document 1, line 1")
    }
}
