import DNSTestSupport
import DNSWire
import Foundation
import XCTest

/// Not a test: the measurement issue #9 asks for, kept runnable. With `CLUSTERDNS_MEASURE_API=1`
/// (see `scripts/api-latency`), the test API server holds N Services (`CLUSTERDNS_MEASURE_SERVICES`,
/// default 10000) shaped as a real cluster serves them (uid, managedFields, annotations,
/// ownerReferences), 100 per namespace, every 10th headless, each with one EndpointSlice of 2–3
/// endpoints. Its lists are paged by 500 and encoded once up front, so the figures are the
/// server's own. Prints the first-sync time (start → the last Service and the last headless
/// Service's endpoints answer), the RSS and peak RSS (VmHWM) after the sync and after the
/// changes, and change → answer percentiles: changes alternate between a Service's ClusterIP and
/// a headless Service's EndpointSlice, and the name is asked for every 2 ms until it answers
/// the new addresses. Skipped otherwise; it asserts no timing.
final class KubernetesAPILatencyMeasurement: XCTestCase {
    typealias API = FakeKubernetesAPIServer

    static let perNamespace = 100
    static let pageSize = 500  // WatchTiming.pageSize, what the server asks for

    func testChangeToAnswerLatency() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["CLUSTERDNS_MEASURE_API"] == "1" else {
            throw XCTSkip("a measurement: run scripts/api-latency")
        }
        let services = Int(environment["CLUSTERDNS_MEASURE_SERVICES"] ?? "") ?? 10_000
        let changes = Int(environment["CLUSTERDNS_MEASURE_CHANGES"] ?? "") ?? 120
        let api = try API.start()
        defer { api.stop() }
        seed(api, services: services)

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
        let last = services - 1, lastHeadless = last - last % 10
        let synced = Self.poll(until: started.addingTimeInterval(300)) {
            Self.answers(Self.name(last), port: server.port) == [Self.serviceIP(last, generation: 0)]
                && Self.answers(Self.name(lastHeadless), port: server.port) == Self.podIPs(lastHeadless, generation: 0)
        }
        XCTAssertTrue(synced, "never synced:\n\(server.stderr.suffix(2_000))")
        let syncSeconds = Date().timeIntervalSince(started)
        let pid = server.process.processIdentifier
        print(String(format: "measure: first sync of %d services + %d slices answered %.2f s after start (%d prepared pages served)",
                     services, services, syncSeconds, api.preparedPagesServed))
        print("measure: RSS after sync \(Self.memory(pid))")
        // Whether the sync kept the CPUs busy: the lists and the build could only overlap
        // with cores to spare (issue #9).
        let cpu = Self.cpuSeconds(pid)
        print(String(format: "measure: server CPU at sync %.2f s (user %.2f, system %.2f), %.2f cores on average over the sync",
                     cpu.user + cpu.system, cpu.user, cpu.system, (cpu.user + cpu.system) / syncSeconds))
        // The reloader hands freed memory back a second after a swap (malloc_trim).
        Thread.sleep(forTimeInterval: 2)
        print("measure: RSS 2 s after sync \(Self.memory(pid))")
        // The server's own account of the sync: its reload line (the full build's time).
        for line in server.stdout.split(separator: "\n") where line.contains("reload: ok") && line.contains("API change") {
            print("measure: server: \(line.prefix(140))")
            break
        }
        // What each list held (the sync's time beyond the build is the lists').
        for line in (server.stdout + server.stderr).split(separator: "\n") where line.contains("kubernetes: listed") {
            print("measure: server: \(line.prefix(240))")
        }

        let latencies = change(api, server: server, services: services, count: changes)
        for (label, values) in [("all", latencies.services + latencies.slices), ("Service ClusterIP", latencies.services),
                                ("EndpointSlice", latencies.slices)] where !values.isEmpty {
            print("measure: \(services) services, \(values.count) changes (\(label)): change-to-answer " + Self.percentiles(values))
        }
        print("measure: RSS after the changes \(Self.memory(pid))")
    }

    // MARK: - The cluster

    /// Puts the objects, forgets their history (as a long-running cluster has), and encodes
    /// the lists once.
    private func seed(_ api: API, services: Int) {
        let seeding = Date()
        let triggered = Self.rfc3339(seeding)
        for index in 0..<services {
            let namespace = Self.namespace(index)
            if index % Self.perNamespace == 0 { api.put(.namespaces, API.namespace(name: namespace)) }
            api.put(.services, Self.service(index, generation: 0))
            api.put(.endpointSlices, Self.slice(index, generation: 0, triggered: triggered))
        }
        api.compact()
        api.prepareListPages(limit: Self.pageSize)
        print("measure: \(services) services + slices put and encoded in \(Int(Date().timeIntervalSince(seeding))) s")
    }

    private static func namespace(_ index: Int) -> String { "ns\(index / perNamespace)" }
    private static func name(_ index: Int) -> String { "svc\(index).\(namespace(index)).svc.cluster.local" }
    private static func isHeadless(_ index: Int) -> Bool { index % 10 == 0 }

    /// 10.(100 + 2 × generation + high bit).x.y for Service `index`: one per Service up to 131,072,
    /// as a real cluster allocates them from its service range. (Until 2026-12-04 every Service
    /// from 65,536 on shared its addresses, and so its PTR names, with the one 65,536 below,
    /// which no API server allows.)
    private static func serviceIP(_ index: Int, generation: Int) -> String {
        "10.\(100 + generation % 75 * 2 + index / 65_536 % 2).\(index / 256 % 256).\(index % 256)"
    }

    /// 2 or 3 pod addresses, 10.(16 + endpoint × 20 + 2 × generation + high bit).x.y, sorted:
    /// below the Services' range, one per pod up to 131,072 Services, like a pod range.
    private static func podIPs(_ index: Int, generation: Int) -> [String] {
        (0..<(2 + index % 2)).map { endpoint in
            "10.\(16 + endpoint * 20 + generation % 10 * 2 + index / 65_536 % 2).\(index / 256 % 256).\(index % 256)"
        }.sorted()
    }

    private static func service(_ index: Int, generation: Int) -> String {
        API.service(
            namespace: namespace(index), name: "svc\(index)",
            clusterIP: isHeadless(index) ? serviceIP(index, generation: 0) : serviceIP(index, generation: generation),
            ports: [("http", 80, "TCP"), ("metrics", 9090, "TCP")], headless: isHeadless(index))
    }

    /// StatefulSet-like pods (hostnames) behind headless Services, Deployment-like ones elsewhere.
    private static func slice(_ index: Int, generation: Int, triggered: String) -> String {
        let addresses = podIPs(index, generation: generation).enumerated().map { position, ip in
            let pod = isHeadless(index) ? "svc\(index)-\(position)" : "svc\(index)-\(String(API.uid("\(index)/\(position)").prefix(10)))"
            return (ip: ip, ready: true, hostname: isHeadless(index) ? pod : nil, podName: pod as String?)
        }
        return API.endpointSlice(
            namespace: namespace(index), name: "svc\(index)-\(String(API.uid("slice/\(index)").prefix(5)))",
            service: "svc\(index)", addresses: addresses, ports: [("http", 8080, "TCP"), ("metrics", 9090, "TCP")],
            lastChangeTriggerTime: triggered)
    }

    // MARK: - Changes

    /// Even changes move a ClusterIP Service to a new address, odd ones give a headless
    /// Service's pods new addresses; each is timed from the write until the name answers it.
    private func change(
        _ api: API, server: ServerProcess, services: Int, count: Int
    ) -> (services: [Double], slices: [Double]) {
        var result: (services: [Double], slices: [Double]) = ([], [])
        var generator = SplitMix64(seed: 42)
        for change in 1...count {
            var index = Int(generator.next() % UInt64(services))
            let changesSlice = change % 2 == 1
            index = changesSlice ? index - index % 10 : (Self.isHeadless(index) ? (index + 1) % services : index)
            let expected = changesSlice ? Self.podIPs(index, generation: change) : [Self.serviceIP(index, generation: change)]
            let written = Date()
            if changesSlice {
                api.put(.endpointSlices, Self.slice(index, generation: change, triggered: Self.rfc3339(written)))
            } else {
                api.put(.services, Self.service(index, generation: change))
            }
            let seen = Self.poll(until: written.addingTimeInterval(10)) {
                Self.answers(Self.name(index), port: server.port) == expected
            }
            XCTAssertTrue(seen, "change \(change) (\(Self.name(index))) not answered within 10 s")
            let milliseconds = Date().timeIntervalSince(written) * 1000
            if changesSlice { result.slices.append(milliseconds) } else { result.services.append(milliseconds) }
            usleep(useconds_t(UInt32.random(in: 20_000...60_000)))  // changes arrive apart, not in one burst
        }
        return result
    }

    // MARK: - Probes

    /// Checks `condition` every 2 ms until it holds or `deadline` passes.
    private static func poll(until deadline: Date, _ condition: () -> Bool) -> Bool {
        while !condition() {
            if Date() >= deadline { return false }
            usleep(2_000)
        }
        return true
    }

    /// The A records `name` answers, sorted; empty on no answer.
    private static func answers(_ name: String, port: Int) -> [String] {
        guard let domain = try? DomainName(name) else { return [] }
        var query = DNSMessage(questions: [DNSQuestion(name: domain, type: .a)])
        query.header.id = UInt16.random(in: 1...UInt16.max)
        guard let reply = try? DNSTestClient.udp(query.encoded(), port: port, timeout: 1),
              let message = try? DNSMessage(decoding: reply) else { return [] }
        return message.answers.compactMap { record in
            if case .a(let address) = record.data { return "\(address)" } else { return nil }
        }.sorted()
    }

    private static func percentiles(_ values: [Double]) -> String {
        let sorted = values.sorted()
        let pick = { (fraction: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
        return String(format: "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                      pick(0.5), pick(0.9), pick(0.99), sorted.last ?? 0)
    }

    /// `VmRSS` and the peak so far, `VmHWM`, from /proc.
    private static func memory(_ pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let field = { (name: String) in
            status.split(separator: "\n").first { $0.hasPrefix(name) }.map {
                $0.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
            } ?? "?"
        }
        return "\(field("VmRSS:")) (peak VmHWM \(field("VmHWM:")))"
    }

    /// User and system CPU seconds of a process so far (`/proc/PID/stat` fields 14 and 15).
    private static func cpuSeconds(_ pid: Int32) -> (user: Double, system: Double) {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The command name (field 2) may hold spaces: count fields after its closing ')'.
        let fields = stat[(stat.lastIndex(of: ")").map { stat.index(after: $0) } ?? stat.startIndex)...]
            .split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticks > 0 else { return (0, 0) }
        return (user / ticks, system / ticks)
    }

    private static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
