import DNSTestSupport
import Foundation
import XCTest

/// The incremental registry with the real binary (issue #9): a burst of a thousand changes,
/// through the test API server and through the manifests watcher, is served correctly; a relist
/// after 410 Gone leaves every answer and the object counts as they were.
final class IncrementalRegistryEndToEndTests: XCTestCase {
    typealias API = FakeKubernetesAPIServer
    private let servers = ServerGroup()
    private var api: API!
    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws {
        api = try API.start()
        scratch = try TemporaryDirectory(prefix: "clusterdns-incremental")
    }

    override func tearDown() {
        servers.stopAll()
        api.stop()
        scratch.remove()
    }

    private func startAPIServer() throws -> (ServerProcess, metrics: Int) {
        let kubeconfig = try scratch.write("config", """
            current-context: t
            clusters: [{name: f, cluster: {server: "\(api.url)"}}]
            contexts: [{name: t, context: {cluster: f, user: u}}]
            users: [{name: u, user: {token: t}}]
            """)
        let server = try servers.start(manifests: nil, arguments: ["--kubeconfig", kubeconfig, "--metrics-listen", "127.0.0.1:0"])
        let metrics = try XCTUnwrap(MetricsEndToEndTests.metricsPort(in: server.stdout), server.stdout)
        return (server, metrics)
    }

    private static func name(_ index: Int) -> String { "s\(index).n\(index % 7).svc.cluster.local" }
    private static func address(_ index: Int, _ generation: Int) -> String { "10.\(96 + generation).\(index / 256).\(index % 256)" }

    /// Waits until every name answers what `expected` says (nil: NXDOMAIN); returns the names
    /// that never did.
    private func wrongAnswers(_ expected: [String: String?], port: Int, within seconds: Double = 20) -> [String] {
        var pending = expected
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            pending = pending.filter { name, address in
                guard let answer = try? UDPLookup.answer(name, port: port) else { return true }
                return address.map { answer.data != [$0] } ?? (answer.rcode != 3)
            }
        } while !pending.isEmpty && Date() < deadline
        return pending.keys.sorted()
    }

    func testABurstOfAThousandAPIEventsIsServed() throws {
        for index in 0..<300 {
            api.put(.services, API.service(namespace: "n\(index % 7)", name: "s\(index)", clusterIP: Self.address(index, 0)))
        }
        let (server, _) = try startAPIServer()
        XCTAssertEqual(wrongAnswers([Self.name(299): Self.address(299, 0)], port: server.port), [], server.stderr)

        // 500 new Services, 300 changed ClusterIPs and 200 deletions, as fast as they can be sent.
        var expected: [String: String?] = [:]
        for index in 300..<800 {
            api.put(.services, API.service(namespace: "n\(index % 7)", name: "s\(index)", clusterIP: Self.address(index, 0)))
            expected[Self.name(index)] = Self.address(index, 0)
        }
        for index in 0..<300 {
            api.put(.services, API.service(namespace: "n\(index % 7)", name: "s\(index)", clusterIP: Self.address(index, 1)))
            expected[Self.name(index)] = Self.address(index, 1)
        }
        for index in 600..<800 {
            api.delete(.services, namespace: "n\(index % 7)", name: "s\(index)")
            expected[Self.name(index)] = .some(nil)
        }
        XCTAssertEqual(wrongAnswers(expected, port: server.port).prefix(5), [], server.stderr)
        XCTAssertTrue(server.stdout.contains("API change"), "reload lines report API changes:\n\(server.stdout)")
    }

    func testARelistAfterGoneLeavesAnswersAndObjectCountsUnchanged() throws {
        for index in 0..<50 {
            api.put(.services, API.service(namespace: "n\(index % 7)", name: "s\(index)", clusterIP: Self.address(index, 0)))
            api.put(.endpointSlices, API.endpointSlice(
                namespace: "n\(index % 7)", name: "s\(index)-x", service: "s\(index)",
                addresses: [("10.1.\(index / 256).\(index % 256)", true, nil, nil)], ports: []))
        }
        let (server, metrics) = try startAPIServer()
        let expected = Dictionary(uniqueKeysWithValues: (0..<50).map { (Self.name($0), Optional(Self.address($0, 0))) })
        XCTAssertEqual(wrongAnswers(expected, port: server.port), [], server.stderr)
        let before = try objectCounts(metrics)
        XCTAssertEqual(before["Service"], 50)
        XCTAssertEqual(before["EndpointSlice"], 50)
        let listsBefore = api.requests.filter { $0.query["watch"] == nil }.count

        // History compacted and watches dropped: resuming gets 410 Gone and everything is listed
        // again, while one Service changes and one disappears meanwhile.
        api.compact()
        api.put(.services, API.service(namespace: "n1", name: "s1", clusterIP: Self.address(1, 5)))
        api.delete(.services, namespace: "n2", name: "s2")
        api.compact()
        api.dropWatches()
        XCTAssertTrue(Subprocess.poll(until: Date().addingTimeInterval(10)) {
            self.api.requests.filter { $0.query["watch"] == nil }.count >= listsBefore + 2
        }, "no relist:\n\(server.stderr)")
        var after = expected
        after[Self.name(1)] = Self.address(1, 5)
        after[Self.name(2)] = .some(nil)
        XCTAssertEqual(wrongAnswers(after, port: server.port), [], server.stderr)
        XCTAssertTrue(server.stderr.contains("listing again") || server.stdout.contains("listing again"), server.stderr)
        let counts = try objectCounts(metrics)
        XCTAssertEqual(counts["Service"], 49, "the relist replaced, not doubled, what was stored")
        XCTAssertEqual(counts["EndpointSlice"], 50)
    }

    func testABurstOfAThousandManifestChangesIsServed() throws {
        let manifests = scratch.path + "/manifests"
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        let write = { (file: String, range: Range<Int>, generation: Int) in
            _ = try self.scratch.write(
                "manifests/\(file).yaml", ManifestWriter.clusterIPServices(range.map { ($0, Self.address($0, generation)) }))
        }
        try write("initial", 0..<100, 0)
        let server = try servers.start(manifests: manifests)
        XCTAssertEqual(wrongAnswers([Self.name(99): Self.address(99, 0)], port: server.port), [], server.stderr)

        // 900 new Services in 30 files and 100 changed in place, written back to back.
        var expected: [String: String?] = [:]
        for file in 0..<30 {
            let range = (100 + file * 30)..<(130 + file * 30)
            try write("burst-\(file)", range, 0)
            for index in range { expected[Self.name(index)] = Self.address(index, 0) }
        }
        try write("initial", 0..<100, 2)
        for index in 0..<100 { expected[Self.name(index)] = Self.address(index, 2) }
        XCTAssertEqual(wrongAnswers(expected, port: server.port).prefix(5), [], server.stderr)
    }

    /// CoreDNS's programming-latency histogram counts each served EndpointSlice change of a
    /// headless Service with a selector that carries a trigger time (and nothing else); our own
    /// histogram counts every change served.
    func testProgrammingLatencyMetricCountsTheChanges() throws {
        api.put(.services, API.service(namespace: "shop", name: "db", headless: true))
        api.put(.services, API.service(namespace: "shop", name: "web", clusterIP: "10.96.0.10"))
        let (server, metrics) = try startAPIServer()
        XCTAssertEqual(wrongAnswers(["web.shop.svc.cluster.local": "10.96.0.10"], port: server.port), [], server.stderr)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for round in 1...3 {
            let triggered = format.string(from: Date().addingTimeInterval(-0.5))
            api.put(.endpointSlices, API.endpointSlice(
                namespace: "shop", name: "db-x", service: "db", addresses: [("10.1.0.\(round)", true, nil, nil)], ports: [],
                lastChangeTriggerTime: triggered))
            XCTAssertEqual(wrongAnswers(["db.shop.svc.cluster.local": "10.1.0.\(round)"], port: server.port), [], server.stderr)
        }
        // A ClusterIP Service's slice is not counted, trigger time or not.
        api.put(.endpointSlices, API.endpointSlice(
            namespace: "shop", name: "web-x", service: "web", addresses: [("10.1.1.1", true, nil, nil)], ports: [],
            lastChangeTriggerTime: format.string(from: Date())))
        XCTAssertEqual(wrongAnswers(["10-1-1-1.web.shop.svc.cluster.local": "10.1.1.1"], port: server.port), [], server.stderr)

        let body = try MetricsEndToEndTests.scrape(port: metrics)
        let programming = Self.value(
            of: "coredns_kubernetes_dns_programming_duration_seconds_count{service_kind=\"headless_with_selector\"}", in: body)
        XCTAssertEqual(programming, 3, body)
        // Each took at least the half second between its trigger time and its arrival.
        let sum = Self.value(of: "coredns_kubernetes_dns_programming_duration_seconds_sum{service_kind=\"headless_with_selector\"}", in: body)
        XCTAssertGreaterThanOrEqual(sum ?? 0, 1.5, body)
        XCTAssertGreaterThanOrEqual(Self.value(of: "clusterdns_registry_update_duration_seconds_count", in: body) ?? 0, 4, body)
    }

    /// The value of the sample `series` (name and labels as printed) in a scrape.
    private static func value(of series: String, in body: String) -> Double? {
        body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    /// `clusterdns_registry_objects{kind}` from a scrape.
    private func objectCounts(_ port: Int) throws -> [String: Int] {
        let body = try MetricsEndToEndTests.scrape(port: port)
        var counts: [String: Int] = [:]
        for line in body.split(separator: "\n") where line.hasPrefix("clusterdns_registry_objects{kind=\"") {
            let kind = line.dropFirst("clusterdns_registry_objects{kind=\"".count).prefix { $0 != "\"" }
            counts[String(kind)] = line.split(separator: " ").last.flatMap { Double($0) }.map { Int($0) }
        }
        return counts
    }
}
