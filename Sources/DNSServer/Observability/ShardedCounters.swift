import Atomics

/// The per-query counters (`coredns_dns_requests_total`, `coredns_dns_responses_total`,
/// `coredns_cache_*`), sharded as `ShardedHistogram` is: each UDP serving thread owns a shard
/// and is its only writer, so counting is a plain load and store, with no locked instruction;
/// shard 0 is shared by the NIO threads and tasks and counts with atomic adds. Shards are summed
/// when Prometheus scrapes. With swift-prometheus's counters a cache hit paid four locked
/// atomic adds and four protocol calls (issue #10: a hit's CPU per query).
final class ShardedCounters: Sendable {
    /// Shard 0, shared, plus one per UDP serving thread up to 32; threads beyond share shard 0.
    static let shardCount = 1 + 32

    /// Each series' labels, as written between the braces.
    private let labels: [String]
    private let counters: [UnsafeAtomic<Int64>]

    init(labels: [String]) {
        self.labels = labels
        counters = (0..<(Self.shardCount * labels.count)).map { _ in .create(0) }
    }

    deinit {
        for counter in counters { counter.destroy() }
    }

    /// The shard of UDP serving thread `index` (0-based): its own for the first 32, else the
    /// shared shard 0.
    static func shard(forListener index: Int) -> Int { index < shardCount - 1 ? 1 + index : 0 }

    @inline(__always)
    func increment(_ series: Int, shard: Int) {
        Self.add(1, to: counters[shard * labels.count + series], shard: shard)
    }

    /// Adds to a counter of `shard`: atomically in the shared shard 0, else as its one writer.
    @inline(__always)
    static func add(_ amount: Int64, to counter: UnsafeAtomic<Int64>, shard: Int) {
        if shard == 0 {
            counter.wrappingIncrement(by: amount, ordering: .relaxed)
        } else {
            // Only this shard's thread writes it: a reader sees the old or the new value.
            counter.store(counter.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
        }
    }

    /// Series `series` summed over every shard.
    func total(_ series: Int) -> Int64 {
        (0..<Self.shardCount).reduce(0) { $0 &+ counters[$1 * labels.count + series].load(ordering: .relaxed) }
    }

    /// The Prometheus text of the counter family `name`, every series, zeros included (as
    /// handles made up front were).
    func render(name: String) -> String {
        var text = "# TYPE \(name) counter\n"
        for (series, labelled) in labels.enumerated() {
            text += labelled.isEmpty ? "\(name) \(total(series))\n" : "\(name){\(labelled)} \(total(series))\n"
        }
        return text
    }
}
