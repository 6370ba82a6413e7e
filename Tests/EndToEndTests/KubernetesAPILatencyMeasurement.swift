import DNSTestSupport
import DNSWire
import Foundation
import XCTest

/// Not a test: the measurement issue #4 asks for, kept runnable. With `CLUSTERDNS_MEASURE_API=1`
/// (see `scripts/api-latency`), serves N Services (`CLUSTERDNS_MEASURE_SERVICES`, default 10000)
/// from the test API server, then changes one Service's ClusterIP at a time and asks for it over
/// UDP every 2 ms until the new address is answered: change-to-answer latency percentiles and
/// the server's RSS are printed. Skipped otherwise; it asserts no timing.
final class KubernetesAPILatencyMeasurement: XCTestCase {
    typealias API = FakeKubernetesAPIServer

    func testChangeToAnswerLatency() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["CLUSTERDNS_MEASURE_API"] == "1" else {
            throw XCTSkip("a measurement: run scripts/api-latency")
        }
        let services = Int(environment["CLUSTERDNS_MEASURE_SERVICES"] ?? "") ?? 10_000
        let changes = Int(environment["CLUSTERDNS_MEASURE_CHANGES"] ?? "") ?? 120
        let perNamespace = 500
        let api = try API.start()
        defer { api.stop() }
        let seeding = Date()
        for index in 0..<services {
            let namespace = "ns\(index / perNamespace)"
            if index % perNamespace == 0 { api.put(.namespaces, API.namespace(name: namespace)) }
            api.put(.services, API.service(
                namespace: namespace, name: "svc\(index)", clusterIP: Self.address(index, generation: 0),
                ports: [("http", 80, "TCP"), ("metrics", 9090, "TCP")]))
        }
        print("measure: \(services) services put into the test API server in \(Self.ms(since: seeding)) ms")

        let scratch = try TemporaryDirectory(prefix: "clusterdns-latency")
        defer { scratch.remove() }
        let kubeconfig = try scratch.write("config", """
            current-context: m
            clusters: [{name: f, cluster: {server: "\(api.url)"}}]
            contexts: [{name: m, context: {cluster: f, user: u}}]
            users: [{name: u, user: {token: t}}]
            """)
        let servers = ServerGroup()
        defer { servers.stopAll() }
        let started = Date()
        let server = try servers.start(manifests: nil, arguments: ["--kubeconfig", kubeconfig])
        let probe = "svc\(services - 1).ns\((services - 1) / perNamespace).svc.cluster.local"
        XCTAssertTrue(Subprocess.poll(until: Date().addingTimeInterval(120)) {
            (try? Self.addresses(probe, port: server.port)) == [Self.address(services - 1, generation: 0)]
        }, "never synced:\n\(server.stderr)")
        print("measure: first sync answered \(Self.ms(since: started)) ms after start")
        let rssSynced = Self.rss(server.process.processIdentifier)

        var latencies: [Double] = []
        var generator = SplitMix64(seed: 42)
        for change in 1...changes {
            let index = Int(generator.next() % UInt64(services))
            let namespace = "ns\(index / perNamespace)"
            let expected = Self.address(index, generation: change)
            let name = "svc\(index).\(namespace).svc.cluster.local"
            let written = Date()
            api.put(.services, API.service(
                namespace: namespace, name: "svc\(index)", clusterIP: expected,
                ports: [("http", 80, "TCP"), ("metrics", 9090, "TCP")]))
            let seen = Subprocess.poll(until: written.addingTimeInterval(10)) {
                (try? Self.addresses(name, port: server.port)) == [expected]
            }
            XCTAssertTrue(seen, "change \(change) not answered within 10 s")
            latencies.append(Date().timeIntervalSince(written) * 1000)
            usleep(useconds_t(UInt32.random(in: 20_000...60_000)))  // changes arrive apart, not in one burst
        }
        latencies.sort()
        let pick = { (fraction: Double) in latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))] }
        print(String(
            format: "measure: %d services, %d changes: change-to-answer p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms",
            services, changes, pick(0.5), pick(0.9), pick(0.99), latencies.last ?? 0))
        print("measure: RSS after sync \(rssSynced), after the changes \(Self.rss(server.process.processIdentifier))")
    }

    /// 10.(generation).x.y for service `index`.
    private static func address(_ index: Int, generation: Int) -> String {
        "10.\(100 + generation % 150).\(index / 256 % 256).\(index % 256)"
    }

    private static func addresses(_ name: String, port: Int) throws -> [String] {
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
        query.header.id = UInt16.random(in: 1...UInt16.max)
        guard let reply = try DNSTestClient.udp(query.encoded(), port: port, timeout: 1) else { return [] }
        return try DNSMessage(decoding: reply).answers.compactMap { record in
            if case .a(let address) = record.data { return "\(address)" } else { return nil }
        }
    }

    /// `VmRSS` and `VmHWM` (peak) from /proc.
    private static func rss(_ pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let field = { (name: String) in
            status.split(separator: "\n").first { $0.hasPrefix(name) }.map { $0.dropFirst(name.count).trimmingCharacters(in: .whitespaces) } ?? "?"
        }
        return "\(field("VmRSS:")) (peak \(field("VmHWM:")))"
    }

    private static func ms(since start: Date) -> Int { Int(Date().timeIntervalSince(start) * 1000) }
}
