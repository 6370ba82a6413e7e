import Atomics

/// `coredns_dns_request_duration_seconds{server,zone,view,type}` recorded without a lock: the
/// per-query cost is three relaxed atomic adds on counters of the recording thread's own shard
/// (swift-prometheus's Histogram takes a lock and compares 16 `Duration`s per observation).
/// Shard 0 is shared by the NIO threads and tasks; each UDP serving thread has its own, so no
/// two threads write the same cache lines. Shards are summed when Prometheus scrapes.
final class RequestDurations: Sendable {
    /// CoreDNS: `prometheus.ExponentialBuckets(0.00025, 2, 16)`, in nanoseconds.
    static let bounds: [Int64] = (0..<16).map { 250_000 << $0 }
    static let shardCount = 1 + 32
    /// Per shard and type: one counter per bound, the total count, the sum in nanoseconds.
    private static let slotsPerType = bounds.count + 2

    private let types: Int
    private let counters: [UnsafeAtomic<Int64>]

    init(types: Int) {
        self.types = types
        counters = (0..<(Self.shardCount * types * Self.slotsPerType)).map { _ in .create(0) }
    }

    deinit {
        for counter in counters { counter.destroy() }
    }

    /// Shard of UDP serving thread `index` (0-based); shard 0 is for everyone else.
    static func shard(forListener index: Int) -> Int { 1 + index % (shardCount - 1) }

    @inline(__always)
    func record(type: Int, nanoseconds: Int64, shard: Int) {
        let base = (shard * types + type) * Self.slotsPerType
        var bucket = 0
        while bucket < Self.bounds.count, nanoseconds > Self.bounds[bucket] { bucket += 1 }
        if bucket < Self.bounds.count { counters[base + bucket].wrappingIncrement(ordering: .relaxed) }
        counters[base + Self.bounds.count].wrappingIncrement(ordering: .relaxed)
        counters[base + Self.bounds.count + 1].wrappingIncrement(by: max(0, nanoseconds), ordering: .relaxed)
    }

    /// Cumulative bucket counts, total count and sum (seconds) of `type` over every shard.
    func snapshot(type: Int) -> (buckets: [Int64], count: Int64, sum: Double) {
        var buckets = [Int64](repeating: 0, count: Self.bounds.count)
        var count: Int64 = 0, sum: Int64 = 0
        for shard in 0..<Self.shardCount {
            let base = (shard * types + type) * Self.slotsPerType
            for bucket in buckets.indices { buckets[bucket] += counters[base + bucket].load(ordering: .relaxed) }
            count += counters[base + Self.bounds.count].load(ordering: .relaxed)
            sum += counters[base + Self.bounds.count + 1].load(ordering: .relaxed)
        }
        for bucket in buckets.indices.dropFirst() { buckets[bucket] += buckets[bucket - 1] }
        return (buckets, count, Double(sum) / 1e9)
    }

    /// The Prometheus text of the histogram, one series per type; `labels` come first in each.
    func render(name: String, labels: String, typeNames: [String]) -> String {
        var text = "# TYPE \(name) histogram\n"
        for (type, typeName) in typeNames.enumerated() {
            let (buckets, count, sum) = snapshot(type: type)
            let series = "\(labels),type=\"\(typeName)\""
            for (bound, value) in zip(Self.bounds, buckets) {
                text += "\(name)_bucket{\(series),le=\"\(Double(bound) / 1e9)\"} \(value)\n"
            }
            text += "\(name)_bucket{\(series),le=\"+Inf\"} \(count)\n"
            text += "\(name)_sum{\(series)} \(sum)\n"
            text += "\(name)_count{\(series)} \(count)\n"
        }
        return text
    }
}
