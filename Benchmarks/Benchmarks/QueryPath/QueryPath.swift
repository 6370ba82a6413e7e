// Micro-benchmarks of the authoritative per-query path (DESIGN.md §3): decoding a request,
// looking its name up in the snapshot, and writing the whole reply, each over a snapshot of
// 10k services in 100 namespaces shaped like `scripts/gen-cluster`'s. The query benchmarks run
// 1,000 queries per iteration (scalingFactor .kilo), each a different name, so results are per
// query and the working set is not a single hot cache line.
import Benchmark
import ClusterRegistry
import DNSResponder
import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let benchmarks: @Sendable () -> Void = {
    // Not `.cpuTotal` nor `.instructions` here: on Linux the harness reads them from /proc and
    // perf around each iteration and that costs 16 mallocs of its own, inside the measured region,
    // which would hide the responder's zero. `.cpuTotal` also comes in 10 ms ticks, far coarser
    // than an iteration (1,000 queries), so the thread's own CPU clock stands in for it.
    let queryMetrics: [BenchmarkMetric] = [.wallClock, ThreadCPU.metric, .throughput, .mallocCountTotal]
    let perQuery = Benchmark.Configuration(
        metrics: queryMetrics, timeUnits: .nanoseconds, warmupIterations: 10, scalingFactor: .kilo,
        maxDuration: .seconds(2), maxIterations: 10_000)

    // MARK: Decoding

    Benchmark("decode", configuration: perQuery) { benchmark, state in
        let nameBuffer = state.scratch.name
        state.packets.withEach(benchmark) { packet in
            blackHole(QueryParser.parse(packet, nameBuffer: nameBuffer))
        }
    } setup: {
        RespondState(packets: PacketSet.make(Fixture.serviceNames(count: 1000).map { Query(name: $0, type: .a) }))
    }

    // MARK: Lookup

    Benchmark("lookup hit", configuration: perQuery) { benchmark, names in
        let snapshot = Fixture.snapshot
        names.withEach(benchmark) { name in
            blackHole(snapshot.lookup(name)?.entry)
        }
    } setup: {
        PacketSet.make(names: Fixture.serviceNames(count: 1000), expectHit: true)
    }

    // A miss is what the responder does for a search-path expansion: no entry, then the
    // innermost zone holding the name (for the SOA of the NXDOMAIN).
    Benchmark("lookup miss", configuration: perQuery) { benchmark, names in
        let snapshot = Fixture.snapshot
        names.withEach(benchmark) { name in
            blackHole(snapshot.lookup(name)?.entry)
            blackHole(snapshot.zoneIndex(containing: name))
        }
    } setup: {
        PacketSet.make(names: Fixture.searchPathMisses(count: 1000), expectHit: false)
    }

    // MARK: Whole replies

    func respond(_ name: String, _ queries: @escaping @Sendable () -> [Query], expect rcode: ResponseCode, answers: Bool) {
        Benchmark(name, configuration: perQuery) { (benchmark: Benchmark, state: RespondState) in
            let snapshot = Fixture.snapshot, responder = Fixture.responder, scratch = state.scratch
            state.packets.withEach(benchmark) { packet in
                blackHole(responder.respond(to: packet, snapshot: snapshot, transport: .udp, scratch: scratch))
            }
        } setup: {
            let state = RespondState(packets: PacketSet.make(queries()))
            state.check(expect: rcode, answers: answers)
            return state
        }
    }

    respond("respond hit A", { Fixture.serviceNames(count: 1000).map { Query(name: $0, type: .a) } },
            expect: .noError, answers: true)
    respond("respond SRV", { Fixture.serviceNames(count: 1000).map { Query(name: "_http._tcp." + $0, type: .srv) } },
            expect: .noError, answers: true)
    respond("respond NXDOMAIN search-path miss", { Fixture.searchPathMisses(count: 1000).map { Query(name: $0, type: .a) } },
            expect: .nxDomain, answers: false)
    respond("respond NODATA AAAA", { Fixture.serviceNames(count: 1000).map { Query(name: $0, type: .aaaa) } },
            expect: .noError, answers: false)
    // `--pods insecure` (the default): `a-b-c-d.<ns>.pod.<zone>` is answered from the label.
    respond("respond pod A", { Fixture.podNames(count: 1000).map { Query(name: $0, type: .a) } },
            expect: .noError, answers: true)

    // MARK: Snapshot build

    Benchmark(
        "snapshot build 10k services",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident], timeUnits: .milliseconds,
            warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 20)
    ) { _, objects in
        blackHole(SnapshotBuilder.build(
            objects: objects, staticZones: [], configuration: Fixture.configuration, serial: Fixture.serial))
    } setup: {
        Fixture.objects
    }
}

// MARK: - Data

/// One question as a stub resolver sends it: RD set, EDNS with a 1232-byte payload (glibc's
/// `options edns0`, systemd-resolved and dig all send an OPT record).
struct Query: Sendable {
    var name: String
    var type: RecordType

    var bytes: [UInt8] {
        let header = DNSHeader(id: 0x4A5B, flags: DNSHeader.Flag.recursionDesired.rawValue)
        let question = DNSQuestion(name: Fixture.domainName(name), type: type)
        return DNSMessage(header: header, questions: [question], edns: EDNSRecord(udpPayloadSize: 1232)).encoded()
    }
}

/// A cluster like `scripts/gen-cluster --namespaces 100 --services 100`: in each namespace every
/// 25th service is an ExternalName, every 10th (otherwise) headless with three ready endpoints
/// that have hostnames, the rest ClusterIP with named ports `http` 80/TCP and `grpc` 9090/TCP.
enum Fixture {
    static let namespaces = 100
    static let servicesPerNamespace = 100
    static let serial: UInt32 = 2_024_010_101

    static let configuration = RegistryConfiguration(nameserverAddresses: [address(10, 96, 0, 10)])

    static let objects: [KubernetesObject] = {
        var objects: [KubernetesObject] = []
        objects.reserveCapacity(namespaces * (1 + servicesPerNamespace + servicesPerNamespace / 10))
        for namespace in 0..<namespaces {
            let ns = "ns-\(namespace)"
            objects.append(.namespace(Namespace(name: ns)))
            for index in 0..<servicesPerNamespace {
                let name = "svc-\(index)", n = UInt32(namespace * 100_000 + index)
                switch kind(index) {
                case .externalName:
                    objects.append(.service(Service(
                        name: name, namespace: ns, kind: .externalName("\(name).\(ns).example.com"),
                        ports: [ServicePort(name: "http", port: 80)])))
                case .headless:
                    objects.append(.service(Service(
                        name: name, namespace: ns, kind: .headless, ports: [ServicePort(name: "http", port: 80)],
                        selector: ["app": name])))
                    let endpoints = (0..<3).map { k in
                        Endpoint(addresses: [address(10, 128 + (n >> 16) % 64, (n >> 8) & 255, (n * 3 + UInt32(k)) & 255)],
                                 hostname: "\(name)-\(k)", podName: "\(name)-\(k)")
                    }
                    objects.append(.endpoints(EndpointGroup(
                        serviceName: name, namespace: ns, origin: .endpointSlice, endpoints: endpoints,
                        ports: [EndpointPort(name: "http", port: 8080)])))
                case .clusterIP:
                    let ip = address(10, 96 + (n >> 16) % 16, (n >> 8) & 255, n & 255)
                    objects.append(.service(Service(
                        name: name, namespace: ns, kind: .clusterIP([ip]),
                        ports: [ServicePort(name: "http", port: 80, targetPort: 8080),
                                ServicePort(name: "grpc", port: 9090)],
                        selector: ["app": name])))
                }
            }
        }
        return objects
    }()

    static let snapshot: RegistrySnapshot = SnapshotBuilder.build(
        objects: objects, staticZones: [], configuration: configuration, serial: serial
    ).snapshot

    static let responder = Responder()

    enum Kind { case clusterIP, headless, externalName }

    static func kind(_ index: Int) -> Kind {
        if index % 25 == 24 { return .externalName }
        if index % 10 == 9 { return .headless }
        return .clusterIP
    }

    /// `count` ClusterIP service names spread over all namespaces.
    static func serviceNames(count: Int) -> [String] {
        var names: [String] = []
        var step = 0
        while names.count < count {
            let namespace = (step * 37) % namespaces, index = (step * 53) % servicesPerNamespace
            step += 1
            guard kind(index) == .clusterIP else { continue }
            names.append("svc-\(index).ns-\(namespace).svc.cluster.local")
        }
        return names
    }

    /// `10-244-x-y.ns-k.pod.cluster.local` for `count` pod addresses over all namespaces.
    static func podNames(count: Int) -> [String] {
        (0..<count).map { step in "10-244-\(step / 250)-\(step % 250 + 1).ns-\((step * 37) % namespaces).pod.cluster.local" }
    }

    /// What a pod in `ns-k` with ndots:5 tries first for `svc-i.ns-j.svc.cluster.local`:
    /// the name with its own namespace's search domain appended.
    static func searchPathMisses(count: Int) -> [String] {
        serviceNames(count: count).enumerated().map { step, name in
            "\(name).ns-\((step * 11) % namespaces).svc.cluster.local"
        }
    }

    static func address(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> IPAddress {
        .v4(a << 24 | b << 16 | c << 8 | d)
    }

    static func domainName(_ text: String) -> DomainName {
        do { return try DomainName(text) } catch { preconditionFailure("bad name \(text): \(error)") }
    }
}

/// Byte strings (packets or lower-cased wire names) in one buffer, walked in order.
struct PacketSet: Sendable {
    let bytes: [UInt8]
    /// Item `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
    let offsets: [Int]

    var count: Int { offsets.count - 1 }

    init(_ items: [[UInt8]]) {
        var bytes: [UInt8] = [], offsets = [0]
        for item in items {
            bytes += item
            offsets.append(bytes.count)
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    static func make(_ queries: [Query]) -> PacketSet { PacketSet(queries.map(\.bytes)) }

    /// Lower-cased wire names, as the parser leaves them in the scratch name buffer.
    static func make(names: [String], expectHit: Bool) -> PacketSet {
        let set = PacketSet(names.map { Fixture.domainName($0).lowercasedWire })
        set.forEach { name in
            precondition(Fixture.snapshot.contains(name) == expectHit, "lookup of a benchmark name")
            precondition(Fixture.snapshot.zoneIndex(containing: name) != nil, "name outside the cluster zone")
        }
        return set
    }

    func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { raw in
            for index in 0..<count { body(UnsafeRawBufferPointer(rebasing: raw[offsets[index]..<offsets[index + 1]])) }
        }
    }

    /// Runs `body` once per scaled iteration, cycling through the items, and records the
    /// thread's CPU time for them.
    @inline(__always)
    func withEach(_ benchmark: Benchmark, _ body: (UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { raw in
            offsets.withUnsafeBufferPointer { offsets in
                let started = ThreadCPU.nanoseconds()
                var index = 0
                for _ in benchmark.scaledIterations {
                    body(UnsafeRawBufferPointer(rebasing: raw[offsets[index]..<offsets[index + 1]]))
                    index += 1
                    if index == count { index = 0 }
                }
                benchmark.measurement(ThreadCPU.metric, ThreadCPU.nanoseconds() - started)
            }
        }
    }
}

/// CPU time of the calling thread, in nanoseconds (the kernel keeps it to the nanosecond,
/// unlike the 10 ms ticks behind `.cpuTotal`).
enum ThreadCPU {
    static let metric = BenchmarkMetric.custom("Time (thread CPU) (ns)", polarity: .prefersSmaller, useScalingFactor: true)

    static func nanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }
}

/// The packets of one decode or respond benchmark and its scratch (the server has one per
/// event loop).
final class RespondState {
    let packets: PacketSet
    let scratch = ResponseScratch()

    init(packets: PacketSet) { self.packets = packets }

    /// Every packet gets the reply the benchmark's name promises, so it measures that path.
    func check(expect rcode: ResponseCode, answers: Bool) {
        packets.forEach { packet in
            let outcome = Fixture.responder.respond(
                to: packet, snapshot: Fixture.snapshot, transport: .udp, scratch: scratch)
            guard case .reply(let length, let got) = outcome, got == rcode else {
                preconditionFailure("unexpected outcome \(outcome), expected \(rcode)")
            }
            let answerCount = Int(scratch.output[6]) << 8 | Int(scratch.output[7])
            precondition(length > packet.count && (answerCount > 0) == answers, "answer count \(answerCount)")
        }
    }
}
