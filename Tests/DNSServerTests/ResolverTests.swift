import ClusterRegistry
import DNSServer
import DNSTestSupport
import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import XCTest

/// The recursive side against real NSD upstreams: cache, stale answers, stub domains, access
/// control and loop detection.
final class ResolverTests: XCTestCase {
    private var nsd: NSDServer!

    override func setUpWithError() throws {
        nsd = try NSDServer(zones: [
            "example.com": UpstreamZones.exampleCom + "short 1 IN A 10.1.1.1\nforever 2147483647 IN A 10.1.1.2\n"
                + "pool IN A 10.3.0.1\npool IN A 10.3.0.2\npool IN A 10.3.0.3\ncdn IN CNAME pool.example.com.\n",
            // The reverse of db.example.com (10.20.30.40), for DNS64's PTR.
            "20.10.in-addr.arpa": "$ORIGIN 20.10.in-addr.arpa.\n$TTL 300\n@ IN SOA ns.example.com. admin.example.com. 1 3600 600 86400 60\n"
                + "@ IN NS ns.example.com.\n40.30 IN PTR db.example.com.\n",
        ])
    }

    override func tearDown() {
        nsd?.stop()
    }

    private func settings(
        _ ports: [Int], cache: ResponseCache.Settings? = ResponseCache.Settings(), stubs: [ResolverSettings.Stub] = [],
        accessControl: AccessControl = .privateNetworks
    ) throws -> ResolverSettings {
        ResolverSettings(
            upstreams: try ports.map { try SocketAddress(ipAddress: "127.0.0.1", port: $0) }, policy: .sequential,
            timeout: .milliseconds(500), stubs: stubs, cache: cache, accessControl: accessControl)
    }

    func testCachedAnswersOutliveTheUpstreamWithTTLCountedDown() async throws {
        let clock = ManualClock()
        let fixture = try await ServerFixture(objects: [], resolver: try settings([nsd.port], cache: clock.cacheSettings()))
        let first = try await fixture.ask("www.example.com", .a)
        XCTAssertEqual(first.answerLines, ["www.example.com. A 93.184.216.34"])
        XCTAssertEqual(first.answers.first?.ttl, 300)
        let negative = try await fixture.ask("nope.example.com", .a)
        XCTAssertEqual(negative.responseCode, .nxDomain)
        nsd.stop()
        clock.advance(.milliseconds(1100))
        // Served from the cache, in the client's spelling, with the age taken off the TTL.
        let cached = try await fixture.ask("WWW.example.COM", .a)
        XCTAssertEqual(cached.answerLines, ["WWW.example.COM. A 93.184.216.34"])
        let ttl = try XCTUnwrap(cached.answers.first?.ttl)
        XCTAssertTrue((295...299).contains(ttl), "TTL \(ttl) not counted down")
        // NXDOMAIN cached for min(SOA TTL, SOA MINIMUM, 30 s cap) (RFC 2308).
        let cachedNegative = try await fixture.ask("nope.example.com", .a)
        XCTAssertEqual(cachedNegative.responseCode, .nxDomain)
        XCTAssertLessThanOrEqual(cachedNegative.authorities.first?.ttl ?? 999, 30)
        // Something never asked before has no cache entry and no upstream: SERVFAIL.
        let reply1 = try await fixture.ask("db.example.com", .a)
        XCTAssertEqual(reply1.responseCode, .servFail)
        try await fixture.shutdown()
    }

    /// Cached answers are shuffled like the cluster zone's (issue #10): over 50 hits, over UDP
    /// and TCP and behind a CNAME, every address of NSD's RRset comes first; with shuffling off
    /// every hit keeps one order.
    func testCachedAddressAnswersRotatePerQuery() async throws {
        let shuffled = try await ServerFixture(objects: [], resolver: try settings([nsd.port]))
        let stable = try await ServerFixture(
            objects: [], resolver: try settings([nsd.port], cache: ResponseCache.Settings(shufflesAddresses: false)))
        let pool = ["10.3.0.1", "10.3.0.2", "10.3.0.3"]
        for name in ["pool.example.com", "cdn.example.com"] {
            var firsts: Set<String> = [], orders: Set<String> = []
            for index in 0..<50 {
                let reply = try await shuffled.ask(name, .a, tcp: index % 5 == 0)
                let addresses = reply.answers.compactMap { record -> String? in
                    if case .a(let address) = record.data { return address.description } else { return nil }
                }
                XCTAssertEqual(addresses.sorted(), pool, name)
                if let first = addresses.first { firsts.insert(first) }
                let unshuffled = try await stable.ask(name, .a, tcp: index % 5 == 0)
                orders.insert(unshuffled.answerLines.joined(separator: " "))
            }
            XCTAssertEqual(firsts, Set(pool), "\(name): every address comes first")
            XCTAssertEqual(orders.count, 1, "\(name) without shuffling: \(orders)")
        }
        try await shuffled.shutdown()
        try await stable.shutdown()
    }

    /// Issue #11 item 11: an ExternalName's out-of-zone target is resolved through the cache,
    /// the reply is not authoritative for the upstream's records, and it carries the chain the
    /// target leads to (alias → www → address). Once cached, it is answered with the upstream
    /// gone.
    func testExternalNameChaseGoesThroughTheCacheAndCarriesTheChain() async throws {
        let service = Service(name: "ext", namespace: "prod", kind: .externalName("alias.example.com"))
        let fixture = try await ServerFixture(objects: [.service(service)], resolver: try settings([nsd.port]))
        let expected = [
            "ext.prod.svc.cluster.local. CNAME alias.example.com.",
            "alias.example.com. CNAME www.example.com.",
            "www.example.com. A 93.184.216.34",
        ]
        let first = try await fixture.ask("ext.prod.svc.cluster.local", .a)
        XCTAssertEqual(first.answerLines, expected)
        XCTAssertFalse(first.header[.authoritative], "the upstream's records are not ours")
        nsd.stop()
        for tcp in [false, true] {
            let cached = try await fixture.ask("ext.prod.svc.cluster.local", .a, tcp: tcp)
            XCTAssertEqual(cached.responseCode, .noError)
            XCTAssertEqual(cached.answerLines, expected, "answered from the cache, tcp \(tcp)")
        }
        try await fixture.shutdown()
    }

    /// `--filter-aaaa` (issue #13): an upstream name's AAAA gets NODATA with the synthetic SOA
    /// at once, over UDP (the datagram thread's path) and TCP, with an OPT when asked with one,
    /// and is never forwarded: with NSD stopped it is still NODATA, not SERVFAIL. A cluster
    /// Service keeps its AAAA; without the flag the same AAAA is forwarded and answered.
    func testFilteredAAAAGetsNODATAWithoutBeingForwarded() async throws {
        let service = Service(name: "dual", namespace: "prod", kind: .clusterIP([IPAddress("10.96.0.7")!, IPAddress("fd00::7")!]))
        let unfiltered = try await ServerFixture(objects: [.service(service)], resolver: try settings([nsd.port]))
        let forwarded = try await unfiltered.ask("www.example.com", .aaaa)
        XCTAssertEqual(forwarded.answerLines, ["www.example.com. AAAA 2606:2800:220:1:248:1893:25c8:1946"])
        try await unfiltered.shutdown()
        var resolver = try settings([nsd.port])
        resolver.filtersAAAA = true
        let fixture = try await ServerFixture(objects: [.service(service)], resolver: resolver)
        let address = try await fixture.ask("www.example.com", .a)
        XCTAssertEqual(address.answerLines, ["www.example.com. A 93.184.216.34"], "A is forwarded as usual")
        nsd.stop()
        for (tcp, payload) in [(false, nil), (false, 1232), (true, nil)] as [(Bool, UInt16?)] {
            let context = "tcp \(tcp), payload \(payload.map(String.init) ?? "none")"
            let filtered = try await fixture.ask("WWW.example.com", .aaaa, tcp: tcp, payload: payload)
            XCTAssertEqual(filtered.responseCode, .noError, context)
            XCTAssertTrue(filtered.answers.isEmpty, context)
            XCTAssertFalse(filtered.header[.authoritative], context)
            XCTAssertTrue(filtered.header[.recursionAvailable], context)
            XCTAssertEqual(filtered.questions.first?.name.description, "WWW.example.com.", "the client's spelling: \(context)")
            XCTAssertEqual(filtered.authorities.map(\.type), [.soa], context)
            XCTAssertEqual(filtered.authorities.first?.ttl, 30, context)
            XCTAssertEqual(filtered.edns != nil, payload != nil, "an OPT answers an OPT: \(context)")
            let cluster = try await fixture.ask("dual.prod.svc.cluster.local", .aaaa, tcp: tcp, payload: payload)
            XCTAssertEqual(cluster.answerLines, ["dual.prod.svc.cluster.local. AAAA fd00::7"], context)
        }
        try await fixture.shutdown()
    }

    /// `--dns64` (issue #13) against an upstream with only an A record for `db`: its AAAA is
    /// synthesized in the prefix, over UDP and TCP; `www`, which has its own AAAA, keeps it; the
    /// PTR of the synthesized address is a CNAME to the IPv4 reverse name and its PTR.
    func testDNS64SynthesizesAAAAFromARecordsAndMapsThePointerBack() async throws {
        var resolver = try settings([nsd.port])
        resolver.dns64 = .wellKnown
        let fixture = try await ServerFixture(objects: [], resolver: resolver)
        for tcp in [false, true] {
            let synthesized = try await fixture.ask("db.example.com", .aaaa, tcp: tcp)
            XCTAssertEqual(synthesized.answerLines, ["db.example.com. AAAA 64:ff9b::a14:1e28"], "tcp \(tcp)")
            XCTAssertEqual(synthesized.questions.first?.type, .aaaa)
            let native = try await fixture.ask("www.example.com", .aaaa, tcp: tcp)
            XCTAssertEqual(native.answerLines, ["www.example.com. AAAA 2606:2800:220:1:248:1893:25c8:1946"], "tcp \(tcp)")
        }
        let pointer = IPAddress("64:ff9b::a14:1e28")!.reverseDomainName.description
        let reverse = try await fixture.ask(pointer, .ptr)
        XCTAssertEqual(reverse.answerLines, ["\(pointer) CNAME 40.30.20.10.in-addr.arpa.", "40.30.20.10.in-addr.arpa. PTR db.example.com."])
        // Without the flag, the AAAA question gets the upstream's NODATA.
        let plain = try await ServerFixture(objects: [], resolver: try settings([nsd.port]))
        let nodata = try await plain.ask("db.example.com", .aaaa)
        XCTAssertEqual(nodata.responseCode, .noError)
        XCTAssertTrue(nodata.answers.isEmpty)
        try await plain.shutdown()
        try await fixture.shutdown()
    }

    /// An upstream TTL is capped at --cache-max-ttl on the first answer too, not only on hits
    /// (issue #11 item 12).
    func testForwardedTTLsAreCappedOnTheFirstAnswer() async throws {
        let fixture = try await ServerFixture(objects: [], resolver: try settings([nsd.port]))
        let first = try await fixture.ask("forever.example.com", .a)
        XCTAssertEqual(first.answerLines, ["forever.example.com. A 10.1.1.2"])
        XCTAssertEqual(first.answers.first?.ttl, ResponseCache.Settings().maxTTL)
        try await fixture.shutdown()
    }

    func testExpiredAnswersAreServedStaleOnlyWhenEnabledAndUpstreamsFail() async throws {
        let clock = ManualClock()
        let stale = try await ServerFixture(objects: [], resolver: try settings([nsd.port], cache: clock.cacheSettings()))
        let noStale = try await ServerFixture(
            objects: [], resolver: try settings([nsd.port], cache: clock.cacheSettings(staleWindow: 0)))
        for fixture in [stale, noStale] {
            let reply2 = try await fixture.ask("short.example.com", .a)
            XCTAssertEqual(reply2.answerLines, ["short.example.com. A 10.1.1.1"])
        }
        nsd.stop()
        clock.advance(.milliseconds(1500))  // the 1 s TTL has run out
        let reply = try await stale.ask("short.example.com", .a)
        XCTAssertEqual(reply.answerLines, ["short.example.com. A 10.1.1.1"])
        XCTAssertEqual(reply.answers.first?.ttl, 30, "RFC 8767 stale TTL")
        let reply3 = try await noStale.ask("short.example.com", .a)
        XCTAssertEqual(reply3.responseCode, .servFail)
        try await stale.shutdown()
        try await noStale.shutdown()
    }

    func testStubDomainsGoToTheirOwnServers() async throws {
        let corp = try NSDServer(zones: ["corp.internal": """
            $ORIGIN corp.internal.
            $TTL 60
            @ IN SOA ns admin 1 3600 600 86400 60
            @ IN NS ns
            ns IN A 127.0.0.1
            intranet IN A 10.50.0.1

            """])
        defer { corp.stop() }
        let stub = ResolverSettings.Stub(
            domain: try DomainName("corp.internal"), upstreams: [try SocketAddress(ipAddress: "127.0.0.1", port: corp.port)])
        let fixture = try await ServerFixture(objects: [], resolver: try settings([nsd.port], stubs: [stub]))
        let reply4 = try await fixture.ask("intranet.corp.internal", .a)
        XCTAssertEqual(reply4.answerLines, ["intranet.corp.internal. A 10.50.0.1"])
        let reply5 = try await fixture.ask("www.example.com", .a)
        XCTAssertEqual(reply5.answerLines, ["www.example.com. A 93.184.216.34"])
        try await fixture.shutdown()
    }

    func testClientsOutsideTheAllowedNetworksGetNoRecursionButStillOurZones() async throws {
        let service = Service(name: "web", namespace: "shop", kind: .clusterIP([IPAddress("10.0.0.7")!]))
        let onlyTen = AccessControl(networks: [AccessControl.Network("10.0.0.0/8")!])
        let fixture = try await ServerFixture(
            objects: [.service(service)], resolver: try settings([nsd.port], accessControl: onlyTen))
        let reply6 = try await fixture.ask("www.example.com", .a)
        XCTAssertEqual(reply6.responseCode, .refused)
        let reply7 = try await fixture.ask("web.shop.svc.cluster.local", .a)
        XCTAssertEqual(reply7.answerLines, ["web.shop.svc.cluster.local. A 10.0.0.7"])
        try await fixture.shutdown()
    }

    func testUpstreamsThatSendOurQueriesBackAreDetectedAndDropped() async throws {
        // A forwards to B and B to A: the classic loop, here between two real servers.
        let portA = try DNSTestClient.freePort()
        let findings = NIOLockedValueBox<[String]>([])
        let b = try await ServerFixture(objects: [], resolver: try settings([portA], cache: nil))
        let a = try await ServerFixture(
            objects: [], resolver: try settings([b.port], cache: nil), port: portA,
            report: { line in findings.withLockedValue { $0.append(line) } })
        a.server.probeForLoops()
        var detected = false
        for _ in 0..<50 where !detected {
            try await Task.sleep(for: .milliseconds(100))
            detected = findings.withLockedValue { !$0.isEmpty }
        }
        XCTAssertTrue(detected, "no loop reported")
        XCTAssertTrue(findings.withLockedValue { $0.first?.contains("127.0.0.1:\(b.port)") ?? false })
        // A no longer forwards anywhere, so the loop cannot eat queries: a quick REFUSED.
        let started = Date()
        let reply8 = try await a.ask("www.example.com", .a)
        XCTAssertEqual(reply8.responseCode, .refused)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        try await a.shutdown()
        try await b.shutdown()
    }
}

/// The caches' clock in these tests: the real one plus an offset the test moves forward, so
/// ageing takes no sleep.
private final class ManualClock: Sendable {
    private let offset = NIOLockedValueBox(TimeAmount.zero)

    func advance(_ amount: TimeAmount) { offset.withLockedValue { $0 = $0 + amount } }

    func cacheSettings(staleWindow: UInt32 = 3600) -> ResponseCache.Settings {
        var settings = ResponseCache.Settings(staleWindow: staleWindow)
        settings.clock = CacheClock { [offset] in NIODeadline.now() + offset.withLockedValue { $0 } }
        return settings
    }
}
