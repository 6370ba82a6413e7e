import XCTest

/// Service names of the demo cluster (`zones/cluster/`) over UDP and TCP: ClusterIP, dual-stack,
/// headless, endpoint names, SRV and ExternalName (DESIGN.md §1; zones/cluster/EXPECTED.md).
final class DemoServiceTests: DemoServerTestCase {
    func testClusterIPServiceA() throws {
        for transport in Dig.Transport.allCases {
            let name = "nginx-service.myserver.svc.cluster.local."
            Expect.answer(try dig.query(name, "A", over: transport), owner: name, type: "A", ["10.100.57.113"])
            let tomcat = "tomcat-serivce.myserver.svc.cluster.local."
            Expect.answer(try dig.query(tomcat, "A", over: transport), owner: tomcat, type: "A", ["10.100.160.12"])
            XCTAssertEqual(try dig.short("kubernetes.default.svc.cluster.local", over: transport), ["10.96.0.1"])
            XCTAssertEqual(try dig.short("kube-dns.kube-system.svc.cluster.local", over: transport), ["10.96.0.10"])
        }
    }

    func testDualStackServiceAnswersBothFamilies() throws {
        let name = "dual-echo.default.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            Expect.answer(try dig.query(name, "A", over: transport), owner: name, type: "A", ["10.96.0.50"])
            Expect.answer(try dig.query(name, "AAAA", over: transport), owner: name, type: "AAAA", ["fd00:10:96::50"])
        }
    }

    func testOtherAddressFamilyIsNoData() throws {
        for transport in Dig.Transport.allCases {
            Expect.noData(try dig.query("nginx-service.myserver.svc.cluster.local.", "AAAA", over: transport))
            Expect.noData(try dig.query("echo-v6.prod.svc.cluster.local.", "A", over: transport))
            Expect.noData(try dig.query("nginx-service.myserver.svc.cluster.local.", "TXT", over: transport))
        }
    }

    func testHeadlessServiceServesOnlyReadyEndpoints() throws {
        let name = "nginx-headless.default.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            // web-3 (172.16.0.20) has conditions.ready: false.
            Expect.answer(
                try dig.query(name, "A", over: transport), owner: name, type: "A",
                ["172.16.0.31", "172.16.0.18", "172.16.0.19"])
            XCTAssertEqual(
                try dig.short(name, over: transport), ["172.16.0.18", "172.16.0.19", "172.16.0.31"], "\(transport)")
            let v6 = "echo-v6.prod.svc.cluster.local."
            Expect.answer(
                try dig.query(v6, "AAAA", over: transport), owner: v6, type: "AAAA",
                ["fd00:10:244:1::a", "fd00:10:244:2::b"])
        }
    }

    func testEndpointHostnames() throws {
        for transport in Dig.Transport.allCases {
            let web0 = "web-0.nginx-headless.default.svc.cluster.local."
            Expect.answer(try dig.query(web0, "A", over: transport), owner: web0, type: "A", ["172.16.0.31"])
            let web2 = "web-2.nginx-headless.default.svc.cluster.local."
            Expect.answer(try dig.query(web2, "A", over: transport), owner: web2, type: "A", ["172.16.0.19"])
            // Without a hostname the endpoint is named by its dashed address, also for ClusterIP services.
            let dashed = "10-244-1-12.nginx-service.myserver.svc.cluster.local."
            Expect.answer(try dig.query(dashed, "A", over: transport), owner: dashed, type: "A", ["10.244.1.12"])
            let v6 = "fd00-10-244-2--14.dual-echo.default.svc.cluster.local."
            Expect.answer(try dig.query(v6, "AAAA", over: transport), owner: v6, type: "AAAA", ["fd00:10:244:2::14"])
            Expect.nxDomain(try dig.query("web-3.nginx-headless.default.svc.cluster.local.", over: transport))
            Expect.nxDomain(try dig.query("172-16-0-31.nginx-headless.default.svc.cluster.local.", over: transport))
            Expect.nxDomain(try dig.query("192-168-39-176.mysql.default.svc.cluster.local.", over: transport))
        }
    }

    func testSRVForNamedPortOfClusterIPService() throws {
        let service = "nginx-service.myserver.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            let http = "_http._tcp.\(service)"
            let reply = try dig.query(http, "SRV", over: transport)
            Expect.answer(reply, owner: http, type: "SRV", ["0 100 80 \(service)"])
            XCTAssertEqual(Expect.additionalAddresses(reply), ["\(service) A 10.100.57.113"], "\(reply)")
            // The SRV port of a ClusterIP service is the service port, not the target port (8080).
            let tomcat = "_http._tcp.tomcat-serivce.myserver.svc.cluster.local."
            Expect.answer(
                try dig.query(tomcat, "SRV", over: transport), owner: tomcat, type: "SRV",
                ["0 100 80 tomcat-serivce.myserver.svc.cluster.local."])
            let dns = "_dns._udp.my-multiport.default.svc.cluster.local."
            Expect.answer(
                try dig.query(dns, "SRV", over: transport), owner: dns, type: "SRV",
                ["0 100 53 my-multiport.default.svc.cluster.local."])
            // Bare service name: one SRV per port, weight ⌊100/2⌋.
            Expect.answer(
                try dig.query(service, "SRV", over: transport), owner: service, type: "SRV",
                ["0 50 80 \(service)", "0 50 443 \(service)"])
        }
    }

    func testSRVForHeadlessServiceTargetsEachReadyEndpoint() throws {
        let service = "nginx-headless.default.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            let name = "_web._tcp.\(service)"
            let reply = try dig.query(name, "SRV", over: transport)
            Expect.answer(
                reply, owner: name, type: "SRV",
                ["0 33 80 web-0.\(service)", "0 33 80 web-1.\(service)", "0 33 80 web-2.\(service)"])
            XCTAssertEqual(
                Expect.additionalAddresses(reply),
                ["web-0.\(service) A 172.16.0.31", "web-1.\(service) A 172.16.0.18", "web-2.\(service) A 172.16.0.19"],
                "\(reply)")
            let v6 = "_http._tcp.echo-v6.prod.svc.cluster.local."
            let v6Reply = try dig.query(v6, "SRV", over: transport)
            Expect.answer(
                v6Reply, owner: v6, type: "SRV",
                ["0 50 8080 fd00-10-244-1--a.echo-v6.prod.svc.cluster.local.",
                 "0 50 8080 fd00-10-244-2--b.echo-v6.prod.svc.cluster.local."])
            XCTAssertEqual(
                Expect.additionalAddresses(v6Reply),
                ["fd00-10-244-1--a.echo-v6.prod.svc.cluster.local. AAAA fd00:10:244:1::a",
                 "fd00-10-244-2--b.echo-v6.prod.svc.cluster.local. AAAA fd00:10:244:2::b"], "\(v6Reply)")
        }
    }

    func testSRVNamesThatDoNotExist() throws {
        for transport in Dig.Transport.allCases {
            // Unnamed ports have no _port._proto name; `http` is TCP; ExternalName has no ports.
            Expect.nxDomain(try dig.query("_http._tcp.ng-svc.default.svc.cluster.local.", "SRV", over: transport))
            Expect.nxDomain(
                try dig.query("_http._udp.nginx-service.myserver.svc.cluster.local.", "SRV", over: transport))
            Expect.nxDomain(try dig.query("_http._tcp.my-service.prod.svc.cluster.local.", "SRV", over: transport))
        }
    }

    func testExternalNameInZoneTargetIsChased() throws {
        let alias = "nginx-alias.prod.svc.cluster.local."
        let target = "nginx-service.myserver.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            let reply = try dig.query(alias, "A", over: transport)
            XCTAssertEqual(reply.status, "NOERROR", "\(reply)")
            XCTAssertTrue(reply.isAuthoritative, "\(reply)")
            XCTAssertEqual(
                reply.answer.map(\.description),
                ["\(alias) 5 IN CNAME \(target)", "\(target) 5 IN A 10.100.57.113"], "\(reply)")
            Expect.answer(try dig.query(alias, "CNAME", over: transport), owner: alias, type: "CNAME", [target])
            // The external target is not resolved without --upstream: the CNAME alone.
            let external = "my-service.prod.svc.cluster.local."
            let externalReply = try dig.query(external, "A", over: transport)
            XCTAssertEqual(externalReply.status, "NOERROR", "\(externalReply)")
            XCTAssertEqual(
                externalReply.answer.map(\.description), ["\(external) 5 IN CNAME my.database.example.com."],
                "\(externalReply)")
        }
    }

    func testExternalNameChaseEndingInNoDataCarriesSOA() throws {
        // RFC 2308 §2.2: a CNAME chain ending in NODATA is NOERROR with the SOA in authority
        // (EXPECTED.md: "the CNAME only; SOA in authority").
        let alias = "nginx-alias.prod.svc.cluster.local."
        for transport in Dig.Transport.allCases {
            let reply = try dig.query(alias, "AAAA", over: transport)
            XCTAssertEqual(reply.status, "NOERROR", "\(reply)")
            XCTAssertEqual(
                reply.answer.map(\.description), ["\(alias) 5 IN CNAME nginx-service.myserver.svc.cluster.local."],
                "\(reply)")
            XCTAssertEqual(reply.authority.map(\.type), ["SOA"], "\(reply)")
        }
    }

    func testNslookupResolvesAService() throws {
        let result = try Subprocess.run(
            "nslookup", ["-port=\(dig.port)", "tomcat-serivce.myserver.svc.cluster.local", dig.host], timeout: 15)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let lines = result.lines.map { $0.trimmingCharacters(in: .whitespaces) }
        let name = try XCTUnwrap(lines.firstIndex(of: "Name:\ttomcat-serivce.myserver.svc.cluster.local"), result.stdout)
        XCTAssertEqual(lines.dropFirst(name + 1).first, "Address: 10.100.160.12", result.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("Address: ") }, ["Address: 10.100.160.12"], result.stdout)
    }
}
