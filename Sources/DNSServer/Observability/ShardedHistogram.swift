import Atomics

/// A Prometheus histogram recorded without a lock, for the per-query metrics
/// (`coredns_dns_request_duration_seconds`, `coredns_dns_request_size_bytes`,
/// `coredns_dns_response_size_bytes`): an observation adds to three counters of the recording
/// thread's own shard (`ShardedCounters.add`: plain stores for a UDP thread's shard, atomic adds
/// in the shared shard 0), where swift-prometheus's Histogram takes a lock and compares every
/// bound as a `Duration`. No two threads write the same cache lines. Shards are summed
/// when Prometheus scrapes. One histogram holds several series (by query type, by transport).
final class ShardedHistogram: Sendable {
    static var shardCount: Int { ShardedCounters.shardCount }

    /// Upper bounds (`le`), inclusive, in the recorded unit.
    let bounds: [Int64]
    /// Recorded units per rendered unit: 1e9 for nanoseconds shown as seconds, 1 for bytes.
    private let unitsPerRendered: Double
    private let series: Int
    /// Per shard and series: one counter per bound, the total count, the sum.
    private var slotsPerSeries: Int { bounds.count + 2 }
    private let counters: [UnsafeAtomic<Int64>]

    init(bounds: [Int64], series: Int, unitsPerRendered: Double = 1) {
        self.bounds = bounds
        self.series = series
        self.unitsPerRendered = unitsPerRendered
        counters = (0..<(Self.shardCount * series * (bounds.count + 2))).map { _ in .create(0) }
    }

    deinit {
        for counter in counters { counter.destroy() }
    }

    /// `count` observations of `value` (a datagram batch's replies share one duration).
    @inline(__always)
    func record(_ series: Int, value: Int64, count: Int64 = 1, shard: Int) {
        let base = (shard * self.series + series) * slotsPerSeries
        var bucket = 0
        while bucket < bounds.count, value > bounds[bucket] { bucket += 1 }
        if bucket < bounds.count { ShardedCounters.add(count, to: counters[base + bucket], shard: shard) }
        ShardedCounters.add(count, to: counters[base + bounds.count], shard: shard)
        ShardedCounters.add(max(0, value) &* count, to: counters[base + bounds.count + 1], shard: shard)
    }

    /// Cumulative bucket counts, total count and sum (in rendered units) of `series` over every
    /// shard.
    func snapshot(_ series: Int) -> (buckets: [Int64], count: Int64, sum: Double) {
        var buckets = [Int64](repeating: 0, count: bounds.count)
        var count: Int64 = 0, sum: Int64 = 0
        for shard in 0..<Self.shardCount {
            let base = (shard * self.series + series) * slotsPerSeries
            for bucket in buckets.indices { buckets[bucket] += counters[base + bucket].load(ordering: .relaxed) }
            count += counters[base + bounds.count].load(ordering: .relaxed)
            sum &+= counters[base + bounds.count + 1].load(ordering: .relaxed)
        }
        for bucket in buckets.indices.dropFirst() { buckets[bucket] += buckets[bucket - 1] }
        return (buckets, count, Double(sum) / unitsPerRendered)
    }

    /// The Prometheus text of the histogram, one series per name in `seriesNames`, labelled
    /// `seriesLabel`; `labels` come first in each.
    func render(name: String, labels: String, seriesLabel: String, seriesNames: [String]) -> String {
        var text = "# TYPE \(name) histogram\n"
        for (series, seriesName) in seriesNames.enumerated() {
            let (buckets, count, sum) = snapshot(series)
            let labelled = "\(labels),\(seriesLabel)=\"\(seriesName)\""
            for (bound, value) in zip(bounds, buckets) {
                text += "\(name)_bucket{\(labelled),le=\"\(Self.format(Double(bound) / unitsPerRendered))\"} \(value)\n"
            }
            text += "\(name)_bucket{\(labelled),le=\"+Inf\"} \(count)\n"
            text += "\(name)_sum{\(labelled)} \(Self.format(sum))\n"
            text += "\(name)_count{\(labelled)} \(count)\n"
        }
        return text
    }

    /// Whole numbers without a fraction (`le="100"`, as Go's client writes byte bounds).
    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
