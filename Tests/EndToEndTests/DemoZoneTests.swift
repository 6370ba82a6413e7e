import XCTest

/// The rest of the demo's names over UDP and TCP: PTR, pod names, the zone apex, negative
/// answers, the static zone file, name case and out-of-zone names (DESIGN.md §1).
final class DemoZoneTests: DemoServerTestCase {
    func testPTRForClusterIPsAndEndpoints() throws {
        let expected: [(String, String, [String])] = [
            ("10.100.57.113", "113.57.100.10.in-addr.arpa.", ["nginx-service.myserver.svc.cluster.local."]),
            ("10.244.1.12", "12.1.244.10.in-addr.arpa.", ["10-244-1-12.nginx-service.myserver.svc.cluster.local."]),
            ("172.16.0.31", "31.0.16.172.in-addr.arpa.", ["web-0.nginx-headless.default.svc.cluster.local."]),
            // The ng-svc pods back two services: one PTR per endpoint name.
            ("172.40.3.2", "2.3.40.172.in-addr.arpa.",
             ["172-40-3-2.ng-svc.default.svc.cluster.local.", "172-40-3-2.ng-svc-nodeport.default.svc.cluster.local."]),
            ("fd00:10:96::50", "0.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa.",
             ["dual-echo.default.svc.cluster.local."]),
        ]
        for transport in Dig.Transport.allCases {
            for (address, owner, names) in expected {
                Expect.answer(try dig.reverse(address, over: transport), owner: owner, type: "PTR", names)
            }
        }
    }

    func testPodNameA() throws {
        let name = "10-244-1-12.myserver.pod.cluster.local."
        for transport in Dig.Transport.allCases {
            Expect.answer(try dig.query(name, "A", over: transport), owner: name, type: "A", ["10.244.1.12"])
            Expect.noData(try dig.query(name, "AAAA", over: transport))
            Expect.nxDomain(try dig.query("1-2-3-4.nosuch.pod.cluster.local.", "A", over: transport))
        }
    }

    func testDNSVersionTXT() throws {
        let name = "dns-version.cluster.local."
        for transport in Dig.Transport.allCases {
            Expect.answer(try dig.query(name, "TXT", over: transport), owner: name, type: "TXT", ["\"1.1.0\""], ttl: 28800)
        }
    }

    func testApexSOAAndNS() throws {
        for transport in Dig.Transport.allCases {
            let soa = try dig.query("cluster.local.", "SOA", over: transport)
            XCTAssertEqual(soa.status, "NOERROR", "\(soa)")
            XCTAssertTrue(soa.isAuthoritative, "\(soa)")
            let record = try XCTUnwrap(soa.answer.first, "\(soa)")
            XCTAssertEqual(soa.answer.count, 1, "\(soa)")
            XCTAssertEqual([record.owner, "\(record.ttl)", record.type], ["cluster.local.", "5", "SOA"])
            var fields = record.rdata.split(separator: " ").map(String.init)
            XCTAssertEqual(fields.count, 7, record.rdata)
            XCTAssertNotNil(UInt32(fields.remove(at: 2)), "serial of \(record)")
            XCTAssertEqual(fields, Expect.clusterSOA())

            let ns = try dig.query("cluster.local.", "NS", over: transport)
            Expect.answer(ns, owner: "cluster.local.", type: "NS", ["ns.dns.cluster.local."])
            // Glue = the address we listen on.
            XCTAssertEqual(Expect.additionalAddresses(ns), ["ns.dns.cluster.local. A 127.0.0.1"], "\(ns)")
            Expect.noData(try dig.query("cluster.local.", "A", over: transport))
        }
    }

    func testNamespaceAndServiceLevelNames() throws {
        for transport in Dig.Transport.allCases {
            Expect.noData(try dig.query("myserver.svc.cluster.local.", "A", over: transport))
            Expect.noData(try dig.query("svc.cluster.local.", "A", over: transport))
            Expect.noData(try dig.query("prod.pod.cluster.local.", "A", over: transport))
            Expect.nxDomain(try dig.query("nosuch.svc.cluster.local.", "A", over: transport))
        }
    }

    func testUnknownServiceAndNamespaceAreNXDomain() throws {
        for transport in Dig.Transport.allCases {
            Expect.nxDomain(try dig.query("nosuch.myserver.svc.cluster.local.", over: transport))
            Expect.nxDomain(try dig.query("nginx-service.nosuch.svc.cluster.local.", over: transport))
            Expect.nxDomain(try dig.query("nginx-service.default.svc.cluster.local.", over: transport))
            Expect.nxDomain(try dig.query("nosuch.cluster.local.", "AAAA", over: transport))
        }
    }

    func testStaticZoneRecords() throws {
        let zoneSOA = ["ns1.example.internal.", "hostmaster.example.internal.", "3600", "900", "604800", "300"]
        for transport in Dig.Transport.allCases {
            let www = "www.example.internal."
            Expect.answer(try dig.query(www, "A", over: transport), owner: www, type: "A", ["192.168.39.80"], ttl: 300)
            Expect.answer(
                try dig.query(www, "AAAA", over: transport), owner: www, type: "AAAA", ["fd00:39::80"], ttl: 300)
            let db = "db.example.internal."
            Expect.answer(
                try dig.query(db, "A", over: transport), owner: db, type: "A", ["192.168.39.175", "192.168.39.176"],
                ttl: 300)
            let mx = try dig.query("example.internal.", "MX", over: transport)
            Expect.answer(
                mx, owner: "example.internal.", type: "MX",
                ["10 mail.example.internal.", "20 mail-backup.example.internal."], ttl: 300)
            XCTAssertEqual(
                Expect.additionalAddresses(mx),
                ["mail-backup.example.internal. A 192.168.39.26", "mail.example.internal. A 192.168.39.25"], "\(mx)")
            let srv = "_mysql._tcp.example.internal."
            Expect.answer(
                try dig.query(srv, "SRV", over: transport), owner: srv, type: "SRV",
                ["0 100 3306 db.example.internal."], ttl: 300)
            Expect.answer(
                try dig.query("example.internal.", "TXT", over: transport), owner: "example.internal.", type: "TXT",
                ["\"v=spf1 mx -all\""], ttl: 300)
            let cname = try dig.query("intranet.example.internal.", "A", over: transport)
            XCTAssertEqual(
                cname.answer.map(\.description),
                ["intranet.example.internal. 3600 IN CNAME www.example.internal.",
                 "www.example.internal. 300 IN A 192.168.39.80"], "\(cname)")
            XCTAssertTrue(cname.isAuthoritative, "\(cname)")
            Expect.nxDomain(
                try dig.query("nosuch.example.internal.", over: transport), soaOwner: "example.internal.",
                soa: zoneSOA, soaTTL: 300)
            Expect.noData(
                try dig.query("www.example.internal.", "MX", over: transport), soaOwner: "example.internal.",
                soa: zoneSOA, soaTTL: 300)
        }
    }

    func testQueryCaseIsEchoed() throws {
        for transport in Dig.Transport.allCases {
            let mixed = "NGINX-Service.MyServer.svc.cluster.local."
            Expect.answer(try dig.query(mixed, "A", over: transport), owner: mixed, type: "A", ["10.100.57.113"])
            let shouting = "NGINX-Service.MyServer.SVC.Cluster.Local."
            Expect.answer(try dig.query(shouting, "A", over: transport), owner: shouting, type: "A", ["10.100.57.113"])
            // The SOA owner of a negative answer uses the query's spelling of the zone too.
            Expect.nxDomain(try dig.query("nosuch.MyServer.SVC.Cluster.Local.", over: transport), soaOwner: "Cluster.Local.")
            let web = "WWW.Example.Internal."
            Expect.answer(try dig.query(web, "A", over: transport), owner: web, type: "A", ["192.168.39.80"], ttl: 300)
        }
    }

    func testOutOfZoneNamesAreRefusedWithoutUpstream() throws {
        for transport in Dig.Transport.allCases {
            for name in ["example.com.", "nginx-service.", "svc.cluster.local.example."] {
                let reply = try dig.query(name, "A", over: transport)
                XCTAssertEqual(reply.status, "REFUSED", "\(reply)")
                XCTAssertEqual(reply.answer, [], "\(reply)")
                XCTAssertFalse(reply.isAuthoritative, "\(reply)")
            }
        }
    }
}
