import ClusterRegistry
import DNSServer
import RegistryReload
import DNSTestSupport
import DNSWire
import NIOCore
import NIOPosix
import XCTest

/// `--metrics-listen`: known queries to an in-process server, then `GET /metrics` over HTTP and
/// exact CoreDNS-named counters.
final class MetricsTests: XCTestCase {
    private var nsd: NSDServer?
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var server: DNSServer?
    private var metricsServer: MetricsServer?

    override func tearDown() async throws {
        await metricsServer?.close()
        await server?.close()
        nsd?.stop()
        try await group.shutdownGracefully()
    }

    private let common = #"server="dns://127.0.0.1:53",zone=".",view="""#

    /// A server over one service with metrics on; returns the DNS and metrics ports.
    private func start(resolver: ResolverSettings) async throws -> (dns: Int, metrics: Int) {
        let service = Service(name: "web", namespace: "shop", kind: .clusterIP([IPAddress("10.0.0.7")!]))
        let store = RegistryStore(
            SnapshotBuilder.build(objects: [.service(service)], staticZones: [], configuration: RegistryConfiguration())
                .snapshot)
        let metrics = ServerMetrics(server: "127.0.0.1:53")
        let server = try await DNSServer.start(
            configuration: ServerConfiguration(listenHost: "127.0.0.1", listenPort: 0, resolver: resolver, metrics: metrics),
            store: store, group: group)
        self.server = server
        let cache = server.resolver.cache
        let endpoint = MetricsServer.self
        let http = try await endpoint.start(
            endpoint: HostPort(host: "127.0.0.1", port: 0), metrics: metrics, group: group,
            refresh: {
                metrics.update(cache: cache)
                metrics.update(registry: store.snapshot.statistics)
            })
        metricsServer = http
        return (try XCTUnwrap(server.localAddress?.port), try XCTUnwrap(http.localAddress?.port))
    }

    private func ask(_ name: String, _ type: RecordType, port: Int, tcp: Bool = false) throws -> ResponseCode {
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: type)])
        query.header.id = UInt16.random(in: 1...UInt16.max)
        query.header[.recursionDesired] = true
        let bytes = query.encoded()
        let reply = try XCTUnwrap(
            tcp ? DNSTestClient.tcp(bytes, port: port, timeout: 5) : DNSTestClient.udp(bytes, port: port, timeout: 5),
            "no reply for \(name)")
        return try DNSMessage(decoding: reply).responseCode
    }

    /// Samples by `name{labels}` exactly as exposed (label order as registered).
    private func scrape(_ port: Int) throws -> [String: Double] {
        let response = try HTTPProbe.get("/metrics", port: port)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        var samples: [String: Double] = [:]
        for line in response.body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                XCTFail("unparsable sample line: \(line)")
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    func testRequestsByProtoAndTypeAndResponsesByRcode() async throws {
        let ports = try await start(resolver: ResolverSettings(upstreams: [], cache: nil))
        XCTAssertEqual(try ask("web.shop.svc.cluster.local", .a, port: ports.dns), .noError)
        XCTAssertEqual(try ask("WEB.shop.svc.cluster.local", .a, port: ports.dns), .noError)
        XCTAssertEqual(try ask("nope.shop.svc.cluster.local", .aaaa, port: ports.dns, tcp: true), .nxDomain)
        XCTAssertEqual(try ask("web.shop.svc.cluster.local", .srv, port: ports.dns, tcp: true), .noError)
        XCTAssertEqual(try ask("web.shop.svc.cluster.local", RecordType(rawValue: 35), port: ports.dns), .noError)  // NAPTR
        let samples = try scrape(ports.metrics)

        func requests(_ proto: String, _ type: String) -> Double? {
            samples[#"coredns_dns_requests_total{\#(common),proto="\#(proto)",family="1",type="\#(type)"}"#]
        }
        XCTAssertEqual(requests("udp", "A"), 2)
        XCTAssertEqual(requests("tcp", "AAAA"), 1)
        XCTAssertEqual(requests("tcp", "SRV"), 1)
        XCTAssertEqual(requests("udp", "other"), 1, "NAPTR is not one of CoreDNS's named types")
        XCTAssertEqual(requests("tcp", "A"), 0)
        XCTAssertEqual(requests("udp", "AAAA"), 0)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NOERROR",plugin="kubernetes"}"#], 4)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NXDOMAIN",plugin="kubernetes"}"#], 1)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NOERROR",plugin="forward"}"#], 0)
        XCTAssertEqual(samples[#"coredns_dns_request_duration_seconds_count{\#(common),type="A"}"#], 2)
        XCTAssertEqual(samples[#"coredns_dns_request_duration_seconds_bucket{\#(common),type="A",le="+Inf"}"#], 2)
        XCTAssertEqual(samples[#"coredns_dns_request_duration_seconds_bucket{\#(common),type="A",le="0.00025"}"#] != nil, true)
        // Sizes by transport: every query here is under 100 bytes, every answer over it.
        for (proto, queries) in [("udp", 3.0), ("tcp", 2.0)] {
            XCTAssertEqual(samples[#"coredns_dns_request_size_bytes_count{\#(common),proto="\#(proto)"}"#], queries)
            XCTAssertEqual(samples[#"coredns_dns_request_size_bytes_bucket{\#(common),proto="\#(proto)",le="100"}"#], queries)
            XCTAssertEqual(samples[#"coredns_dns_request_size_bytes_bucket{\#(common),proto="\#(proto)",le="0"}"#], 0)
            XCTAssertEqual(samples[#"coredns_dns_response_size_bytes_count{\#(common),proto="\#(proto)"}"#], queries)
            XCTAssertGreaterThan(samples[#"coredns_dns_response_size_bytes_sum{\#(common),proto="\#(proto)"}"#] ?? 0,
                                 samples[#"coredns_dns_request_size_bytes_sum{\#(common),proto="\#(proto)"}"#] ?? .infinity)
        }
        XCTAssertEqual(samples["coredns_panics_total"], 0)
        XCTAssertEqual(samples[#"coredns_build_info{version="\#(ServerMetrics.version)",revision="unknown",goversion="swift-6"}"#], 1)
        XCTAssertEqual(samples[#"clusterdns_registry_objects{kind="Service"}"#], 1)
        XCTAssertNotNil(samples["clusterdns_registry_records"])
        XCTAssertGreaterThan(samples["clusterdns_registry_records"] ?? 0, 0)

        // Only /metrics is served.
        XCTAssertEqual(try HTTPProbe.get("/health", port: ports.metrics).status, 404)
        XCTAssertEqual(try HTTPProbe.request("POST", "/metrics", port: ports.metrics).status, 405)
    }

    func testForwardedAndCachedQueries() async throws {
        let nsd = try NSDServer(zones: ["example.com": UpstreamZones.exampleCom])
        self.nsd = nsd
        let upstream = try SocketAddress(ipAddress: "127.0.0.1", port: nsd.port)
        let ports = try await start(resolver: ResolverSettings(
            upstreams: [upstream], policy: .sequential, timeout: .seconds(2), cache: ResponseCache.Settings()))
        XCTAssertEqual(try ask("www.example.com", .a, port: ports.dns), .noError)  // forward, miss
        XCTAssertEqual(try ask("www.example.com", .a, port: ports.dns), .noError)  // cache hit
        XCTAssertEqual(try ask("www.example.com", .a, port: ports.dns, tcp: true), .noError)  // cache hit
        XCTAssertEqual(try ask("nope.example.com", .a, port: ports.dns), .nxDomain)  // forward, miss
        XCTAssertEqual(try ask("nope.example.com", .a, port: ports.dns), .nxDomain)  // denial hit
        let samples = try scrape(ports.metrics)

        let to = #"to="127.0.0.1:\#(nsd.port)""#
        XCTAssertEqual(samples["coredns_forward_requests_total{\(to)}"], 2)
        XCTAssertEqual(samples[#"coredns_forward_responses_total{\#(to),rcode="NOERROR"}"#], 1)
        XCTAssertEqual(samples[#"coredns_forward_responses_total{\#(to),rcode="NXDOMAIN"}"#], 1)
        XCTAssertEqual(samples[#"coredns_forward_request_duration_seconds_count{\#(to),rcode="NOERROR"}"#], 1)
        XCTAssertEqual(samples[#"coredns_cache_hits_total{server="dns://127.0.0.1:53",type="success"}"#], 2)
        XCTAssertEqual(samples[#"coredns_cache_hits_total{server="dns://127.0.0.1:53",type="denial"}"#], 1)
        XCTAssertEqual(samples[#"coredns_cache_misses_total{server="dns://127.0.0.1:53"}"#], 2)
        XCTAssertEqual(samples[#"coredns_cache_requests_total{server="dns://127.0.0.1:53",zones=".",view=""}"#], 5)
        XCTAssertEqual(samples[#"coredns_cache_entries{server="dns://127.0.0.1:53",type="success"}"#], 1)
        XCTAssertEqual(samples[#"coredns_cache_entries{server="dns://127.0.0.1:53",type="denial"}"#], 1)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NOERROR",plugin="forward"}"#], 1)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NOERROR",plugin="cache"}"#], 2)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NXDOMAIN",plugin="forward"}"#], 1)
        XCTAssertEqual(samples[#"coredns_dns_responses_total{\#(common),rcode="NXDOMAIN",plugin="cache"}"#], 1)
        XCTAssertEqual(
            samples[#"coredns_dns_requests_total{\#(common),proto="udp",family="1",type="A"}"#], 4)
        XCTAssertEqual(
            samples[#"coredns_dns_requests_total{\#(common),proto="tcp",family="1",type="A"}"#], 1)
    }

    func testReloadCountersFollowTheReloadersTotals() throws {
        let metrics = ServerMetrics(server: "0.0.0.0:53")
        metrics.update(reloads: RegistryReloader.Counts(succeeded: 2, failed: 1, unchanged: 0))
        metrics.update(reloads: RegistryReloader.Counts(succeeded: 3, failed: 1, unchanged: 4))
        let text = metrics.render()
        XCTAssertTrue(text.contains(#"clusterdns_reloads_total{result="success"} 3"#), text)
        XCTAssertTrue(text.contains(#"clusterdns_reloads_total{result="failure"} 1"#), text)
        XCTAssertTrue(text.contains(#"clusterdns_reloads_total{result="unchanged"} 4"#), text)
        XCTAssertTrue(text.contains("coredns_reload_failed_total 1\n"), text)
    }
}
