import DNSWire
import ClusterRegistry
import RegistryReload
import CoreMetrics
import DNSResponder
import NIOConcurrencyHelpers
import NIOCore
import Prometheus

typealias MetricCounter = CoreMetrics.Counter
typealias MetricTimer = CoreMetrics.Timer

/// The Prometheus metrics of one server, named and labelled like CoreDNS's so its standard
/// Grafana dashboard works unchanged (README "Metrics").
///
/// Every per-query series is created up front: counting a query indexes small tables by
/// transport, address family, query type and rcode and adds to the counting thread's own shard
/// (`ShardedCounters`), with no locks, strings or allocation. Components hold a
/// `ServerMetrics?`; nil (metrics off, and most tests) costs one branch.
public final class ServerMetrics: Sendable {
    /// Where answers came from: CoreDNS's `plugin` label on `coredns_dns_responses_total`.
    public enum Source: Int, Sendable, CaseIterable {
        /// `template`: `--filter-aaaa`'s NODATA, the label CoreDNS users see for the
        /// `template IN AAAA` rule that does the same there.
        case kubernetes, cache, forward, template
    }

    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// CoreDNS's `server` label, e.g. `dns://0.0.0.0:53`.
    public let server: String

    /// Series ((transport * 2) + family) * types + type (`ShardedCounters`: no lock, and no
    /// locked instruction on a UDP thread).
    private let requests: ShardedCounters
    /// Series source * 16 + rcode.
    private let responses: ShardedCounters
    /// By type, recorded per query without a lock (`ShardedHistogram`), in nanoseconds.
    private let durations = ShardedHistogram(
        bounds: ServerMetrics.durationBoundsNanoseconds, series: ServerMetrics.typeNames.count, unitsPerRendered: 1e9)
    /// Request and response sizes in bytes, by transport (`proto`: udp, tcp).
    private let requestSizes = ShardedHistogram(bounds: ServerMetrics.sizeBuckets, series: 2)
    private let responseSizes = ShardedHistogram(bounds: ServerMetrics.sizeBuckets, series: 2)
    private let commonLabels: String
    /// Series 0 success, 1 denial.
    private let cacheHits: ShardedCounters
    private let cacheMisses: ShardedCounters
    private let cacheRequests: ShardedCounters
    /// Answers response rate limiting withheld (`--rrl-responses-per-second`).
    private let rateLimited: (dropped: MetricCounter, truncated: MetricCounter)
    private let shedQueries: (queueDelay: MetricCounter, clientShare: MetricCounter)
    private let aaaaFilteredQueries: MetricCounter
    private let reloadState = NIOLockedValueBox(RegistryReloader.Counts())

    /// CoreDNS `plugin/metrics/vars`: the query types counted by name; the rest are `other`.
    static let typeNames = [
        "A", "AAAA", "CNAME", "DNSKEY", "DS", "MX", "NSEC3", "NSEC", "NS", "PTR", "RRSIG", "SOA", "SRV", "TXT",
        "HTTPS", "IXFR", "AXFR", "ANY", "other",
    ]
    static let typeCodes: [UInt16] = [1, 28, 5, 48, 43, 15, 50, 47, 2, 12, 46, 6, 33, 16, 65, 251, 252, 255]
    /// miekg/dns `RcodeToString` for the 4-bit header rcode.
    static let rcodeNames = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
        "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
    ]
    /// CoreDNS: `prometheus.ExponentialBuckets(0.00025, 2, 16)` for request durations.
    static let durationBoundsNanoseconds: [Int64] = (0..<16).map { 250_000 << $0 }
    static let durationBuckets: [Duration] = durationBoundsNanoseconds.map { .nanoseconds($0) }
    static let requestDuration = "coredns_dns_request_duration_seconds"
    /// CoreDNS `plugin/metrics/vars`: the bounds of `coredns_dns_request_size_bytes` and
    /// `coredns_dns_response_size_bytes`.
    static let sizeBuckets: [Int64] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16_000, 32_000, 48_000, 64_000]
    static let requestSize = "coredns_dns_request_size_bytes"
    static let responseSize = "coredns_dns_response_size_bytes"
    static let protoNames = ["udp", "tcp"]
    static let forwardDuration = "coredns_forward_request_duration_seconds"
    /// CoreDNS's `kubernetes` plugin: from an EndpointSlice's last-change-trigger-time to the
    /// change being programmed, for headless Services with a selector;
    /// `prometheus.ExponentialBuckets(0.001, 2, 20)`.
    static let programmingDuration = "coredns_kubernetes_dns_programming_duration_seconds"
    static let programmingBuckets: [Duration] = (0..<20).map { .microseconds(1000 << $0) }
    /// Ours: from a change entering the server (a watch event, a manifest write noticed) to its
    /// answer being served, for every kind of object.
    static let updateDuration = "clusterdns_registry_update_duration_seconds"
    static let updateBuckets: [Duration] = (0..<16).map { .microseconds(250 << $0) }

    public static let version = "0.1.0"
    public static let revision = "unknown"

    /// `server` is the DNS listen address as `HOST:PORT`.
    public init(server: String) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            Self.forwardDuration: Self.durationBuckets, Self.programmingDuration: Self.programmingBuckets,
            Self.updateDuration: Self.updateBuckets,
        ]
        self.registry = registry
        self.factory = factory
        let server = "dns://" + server
        self.server = server
        let common = [("server", server), ("zone", "."), ("view", "")]
        var requests: [String] = []
        for proto in ["udp", "tcp"] {
            for family in ["1", "2"] {
                for type in Self.typeNames {
                    requests.append(Self.labels(common + [("proto", proto), ("family", family), ("type", type)]))
                }
            }
        }
        self.requests = ShardedCounters(labels: requests)
        responses = ShardedCounters(labels: Source.allCases.flatMap { source in
            Self.rcodeNames.map { rcode in Self.labels(common + [("rcode", rcode), ("plugin", "\(source)")]) }
        })
        commonLabels = Self.labels(common)
        cacheHits = ShardedCounters(labels: ["success", "denial"].map { Self.labels([("server", server), ("type", $0)]) })
        cacheMisses = ShardedCounters(labels: [Self.labels([("server", server)])])
        cacheRequests = ShardedCounters(labels: [Self.labels([("server", server), ("zones", "."), ("view", "")])])
        rateLimited = (
            MetricCounter(label: "clusterdns_rrl_responses_total", dimensions: [("action", "dropped")], factory: factory),
            MetricCounter(label: "clusterdns_rrl_responses_total", dimensions: [("action", "truncated")], factory: factory)
        )
        aaaaFilteredQueries = MetricCounter(label: "clusterdns_aaaa_filtered_total", dimensions: [], factory: factory)
        shedQueries = (
            MetricCounter(label: "clusterdns_udp_shed_total", dimensions: [("reason", "queue_delay")], factory: factory),
            MetricCounter(label: "clusterdns_udp_shed_total", dimensions: [("reason", "client_share")], factory: factory)
        )
        // CoreDNS counts the panics its server recovers from. A Swift trap ends the process
        // (and a restart is what Kubernetes counts), so there is none to count; the series is
        // there, at 0, for the dashboards and alerts that read it.
        count("coredns_panics_total", [], by: 0)
        gauge("coredns_build_info", [("version", Self.version), ("revision", Self.revision), ("goversion", "swift-6")], 1)
        for result in ["success", "failure", "unchanged"] {
            count("clusterdns_reloads_total", [("result", result)], by: 0)
        }
        count("coredns_reload_failed_total", [], by: 0)
    }

    /// `key="value",…` as the exposition format writes labels, in their order.
    private static func labels(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
    }

    /// The index of a query type in `typeNames`.
    @inline(__always)
    static func typeIndex(_ type: UInt16) -> Int {
        typeCodes.firstIndex(of: type) ?? typeCodes.count
    }

    /// Counts one answered query: `replyFlags` is the reply's fourth header byte (its low nibble
    /// is the rcode). Each datagram thread records into a shard of its own
    /// (`ShardedCounters.shard(forListener:)`); TCP into shard 0.
    public func recordQuery(
        questionType: UInt16, requestBytes: Int, replyFlags: UInt8, replyBytes: Int, transport: Transport, ipv6: Bool,
        source: Source, started: NIODeadline, shard: Int
    ) {
        let type = count(
            questionType: questionType, requestBytes: requestBytes, replyFlags: replyFlags, replyBytes: replyBytes,
            transport: transport, ipv6: ipv6, source: source, shard: shard)
        durations.record(type, value: (NIODeadline.now() - started).nanoseconds, shard: shard)
    }

    /// `recordQuery` for a reply that leaves in a datagram batch: its duration is added to
    /// `batch` and recorded by `recordDurations` once the batch is sent.
    func recordQuery(
        questionType: UInt16, requestBytes: Int, replyFlags: UInt8, replyBytes: Int, ipv6: Bool, source: Source,
        batch: inout BatchDurations, shard: Int
    ) {
        batch.add(count(
            questionType: questionType, requestBytes: requestBytes, replyFlags: replyFlags, replyBytes: replyBytes,
            transport: .udp, ipv6: ipv6, source: source, shard: shard))
    }

    /// The durations of a batch's replies, every one from `started` (the batch's read) to now
    /// (its `sendmmsg`): one clock read for the batch, not one per reply (issue #10).
    func recordDurations(_ batch: inout BatchDurations, started: NIODeadline, shard: Int) {
        guard batch.total > 0 else { return }
        let value = (NIODeadline.now() - started).nanoseconds
        for type in batch.counts.indices where batch.counts[type] > 0 {
            durations.record(type, value: value, count: Int64(batch.counts[type]), shard: shard)
        }
        batch.reset()
    }

    /// The request, response and size counters of one answered query; returns its type's
    /// series.
    @inline(__always)
    private func count(
        questionType: UInt16, requestBytes: Int, replyFlags: UInt8, replyBytes: Int, transport: Transport, ipv6: Bool,
        source: Source, shard: Int
    ) -> Int {
        let type = Self.typeIndex(questionType)
        let family = ipv6 ? 1 : 0
        let proto = transport == .tcp ? 1 : 0
        requests.increment(((proto * 2) + family) * Self.typeNames.count + type, shard: shard)
        responses.increment(source.rawValue * 16 + Int(replyFlags & 0x0F), shard: shard)
        requestSizes.record(proto, value: Int64(requestBytes), shard: shard)
        responseSizes.record(proto, value: Int64(replyBytes), shard: shard)
        return type
    }

    /// Replies of one datagram batch by query type, waiting for their common end time: every
    /// reply of a batch leaves in the same `sendmmsg`. Made once per serving thread.
    struct BatchDurations {
        private(set) var counts = [Int](repeating: 0, count: ServerMetrics.typeNames.count)
        private(set) var total = 0

        @inline(__always)
        mutating func add(_ type: Int) {
            counts[type] += 1
            total += 1
        }

        mutating func reset() {
            for index in counts.indices { counts[index] = 0 }
            total = 0
        }
    }

    /// The question type of a query, 0 when it has none we can read.
    static func questionType(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        guard bytes.count > DNSHeader.byteCount, bytes[4] | bytes[5] != 0 else { return 0 }
        return WireName.firstQuestion(bytes)?.type ?? 0
    }

    /// A cache hit: `denial` for NXDOMAIN and NODATA replies (CoreDNS's two cache types).
    func cacheHit(_ reply: [UInt8]) {
        reply.withUnsafeBytes { cacheHit($0, shard: 0) }
    }

    /// `shard`: as for `recordQuery`.
    func cacheHit(_ reply: UnsafeRawBufferPointer, shard: Int) {
        cacheRequests.increment(0, shard: shard)
        cacheHits.increment(Self.isDenial(reply) ? 1 : 0, shard: shard)
    }

    /// An answer response rate limiting dropped, or sent truncated instead.
    func rateLimited(truncated: Bool) {
        (truncated ? rateLimited.truncated : rateLimited.dropped).increment()
    }

    /// An AAAA question answered NODATA by `--filter-aaaa`.
    func aaaaFiltered() { aaaaFilteredQueries.increment() }

    /// A UDP query dropped unanswered by the overload shedder.
    func shed(_ verdict: OverloadShedder.Verdict) {
        switch verdict {
        case .tooOld: shedQueries.queueDelay.increment()
        case .overShare: shedQueries.clientShare.increment()
        case .answer: break
        }
    }

    func cacheMiss() {
        cacheRequests.increment(0, shard: 0)
        cacheMisses.increment(0, shard: 0)
    }

    static func isDenial(_ reply: [UInt8]) -> Bool {
        reply.withUnsafeBytes { isDenial($0) }
    }

    /// NXDOMAIN, or no answer records (NODATA).
    static func isDenial(_ reply: UnsafeRawBufferPointer) -> Bool {
        reply.count >= 8 && (reply[3] & 0x0F == 3 || (reply[6] == 0 && reply[7] == 0))
    }

    // MARK: Registry changes

    /// Records, as a snapshot is swapped in, how long its changes took to be served:
    /// `now`/`wallNow` are the monotonic and wall clocks at the swap.
    public func recordServed(_ times: ChangeTimes, now: Double, wallNow: Double) {
        guard !times.received.isEmpty || !times.triggered.isEmpty else { return }
        let programming = MetricTimer(
            label: Self.programmingDuration, dimensions: [("service_kind", "headless_with_selector")], factory: factory)
        for trigger in times.triggered { programming.recordNanoseconds(Self.nanoseconds(wallNow - trigger)) }
        let update = MetricTimer(label: Self.updateDuration, dimensions: [], factory: factory)
        for received in times.received { update.recordNanoseconds(Self.nanoseconds(now - received)) }
    }

    /// Clock skew between the API server and us must not make a negative (or trapping) value.
    private static func nanoseconds(_ seconds: Double) -> Int64 {
        Int64(exactly: (max(0, min(seconds, 1e9)) * 1e9).rounded()) ?? 0
    }

    // MARK: Sampled at scrape time

    /// `coredns_cache_entries{server,type}`.
    public func update(cache: ResponseCache?) {
        guard let cache else { return }
        let counts = cache.entryCounts
        gauge("coredns_cache_entries", [("server", server), ("type", "success")], Double(counts.success))
        gauge("coredns_cache_entries", [("server", server), ("type", "denial")], Double(counts.denial))
    }

    /// `clusterdns_registry_objects{kind}` and `clusterdns_registry_records`.
    public func update(registry statistics: RegistryStatistics) {
        for (kind, count) in statistics.objectsByKind {
            gauge("clusterdns_registry_objects", [("kind", kind)], Double(count))
        }
        gauge("clusterdns_registry_records", [], Double(statistics.records))
    }

    /// `clusterdns_reloads_total{result}` and `coredns_reload_failed_total` from the reloader's
    /// running totals.
    public func update(reloads counts: RegistryReloader.Counts) {
        let previous = reloadState.withLockedValue { state in
            defer { state = counts }
            return state
        }
        let deltas = [
            ("success", counts.succeeded - previous.succeeded), ("failure", counts.failed - previous.failed),
            ("unchanged", counts.unchanged - previous.unchanged),
        ]
        for (result, delta) in deltas where delta > 0 {
            count("clusterdns_reloads_total", [("result", result)], by: Int64(delta))
        }
        let failed = counts.failed - previous.failed
        if failed > 0 { count("coredns_reload_failed_total", [], by: Int64(failed)) }
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }

    private func count(_ name: String, _ labels: [(String, String)], by amount: Int64) {
        MetricCounter(label: name, dimensions: labels, factory: factory).increment(by: amount)
    }

    /// The text exposition format.
    public func render() -> String {
        registry.emitToString()
            + requests.render(name: "coredns_dns_requests_total") + responses.render(name: "coredns_dns_responses_total")
            + cacheHits.render(name: "coredns_cache_hits_total") + cacheMisses.render(name: "coredns_cache_misses_total")
            + cacheRequests.render(name: "coredns_cache_requests_total")
            + durations.render(name: Self.requestDuration, labels: commonLabels, seriesLabel: "type", seriesNames: Self.typeNames)
            + requestSizes.render(name: Self.requestSize, labels: commonLabels, seriesLabel: "proto", seriesNames: Self.protoNames)
            + responseSizes.render(name: Self.responseSize, labels: commonLabels, seriesLabel: "proto", seriesNames: Self.protoNames)
    }
}

/// `coredns_forward_*` for one set of upstreams: request counters made up front per upstream;
/// response counters and latency histograms per (upstream, rcode) made on first use (forwarding
/// already allocates a socket per query, so a short lock here is not the bottleneck).
final class ForwardMetrics: Sendable {
    private let names: [String]
    private let requests: [MetricCounter]
    private let factory: PrometheusMetricsFactory
    private let responses = NIOLockedValueBox([Int: (MetricCounter, MetricTimer)]())

    init(upstreams: [SocketAddress], metrics: ServerMetrics) {
        names = upstreams.map { address in
            let host = address.ipAddress ?? "?"
            let port = address.port ?? 53
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
        factory = metrics.factory
        requests = names.map { [factory] in
            MetricCounter(label: "coredns_forward_requests_total", dimensions: [("to", $0)], factory: factory)
        }
    }

    func request(_ upstream: Int) { requests[upstream].increment() }

    func response(_ upstream: Int, reply: [UInt8], started: NIODeadline) {
        let rcode = reply.count > 3 ? Int(reply[3] & 0x0F) : 2
        let (counter, timer) = responses.withLockedValue { table in
            let key = upstream * 16 + rcode
            if let handles = table[key] { return handles }
            let dimensions = [("to", names[upstream]), ("rcode", ServerMetrics.rcodeNames[rcode])]
            let handles = (
                MetricCounter(label: "coredns_forward_responses_total", dimensions: dimensions, factory: factory),
                MetricTimer(label: ServerMetrics.forwardDuration, dimensions: dimensions, factory: factory)
            )
            table[key] = handles
            return handles
        }
        counter.increment()
        timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
    }
}
