@testable import DNSServer
import NIOCore
import XCTest

/// The lock-free histograms of the per-query metrics: Prometheus `le` semantics, cumulative
/// buckets, shards summed, and the text CoreDNS's dashboards read.
final class ShardedHistogramTests: XCTestCase {
    private static func durations(series: Int) -> ShardedHistogram {
        ShardedHistogram(bounds: ServerMetrics.durationBoundsNanoseconds, series: series, unitsPerRendered: 1e9)
    }

    func testBucketsAreCumulativeAndInclusiveAcrossShards() {
        let durations = Self.durations(series: 2)
        durations.record(0, value: 250_000, shard: 0)      // exactly the first bound: le="0.00025"
        durations.record(0, value: 250_001, shard: 1)      // just above: le="0.0005"
        durations.record(0, value: 3_000_000, shard: 2)    // le="0.004"
        durations.record(0, value: 60_000_000_000, shard: ShardedCounters.shard(forListener: 99))  // beyond all
        durations.record(1, value: 1, shard: 0)
        let (buckets, count, sum) = durations.snapshot(0)
        XCTAssertEqual(count, 4)
        XCTAssertEqual(Array(buckets.prefix(5)), [1, 2, 2, 2, 3])
        XCTAssertEqual(buckets.last, 3, "the 60 s query is only in +Inf")
        XCTAssertEqual(sum, 60.003500001, accuracy: 1e-9)
        XCTAssertEqual(durations.snapshot(1).count, 1)
    }

    func testRenderedSeriesPerType() {
        let durations = Self.durations(series: 2)
        durations.record(1, value: 400_000, shard: 3)
        let text = durations.render(name: "h", labels: #"server="s""#, seriesLabel: "type", seriesNames: ["A", "other"])
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.first, "# TYPE h histogram")
        XCTAssertEqual(lines.count, 1 + 2 * (16 + 3))
        XCTAssertTrue(lines.contains(#"h_bucket{server="s",type="other",le="0.00025"} 0"#))
        XCTAssertTrue(lines.contains(#"h_bucket{server="s",type="other",le="0.0005"} 1"#))
        XCTAssertTrue(lines.contains(#"h_bucket{server="s",type="other",le="8.192"} 1"#))
        XCTAssertTrue(lines.contains(#"h_bucket{server="s",type="other",le="+Inf"} 1"#))
        XCTAssertTrue(lines.contains(#"h_count{server="s",type="A"} 0"#))
        XCTAssertTrue(lines.contains(#"h_sum{server="s",type="other"} 0.0004"#))
    }

    /// Sizes in bytes with CoreDNS's bounds: whole-number `le` labels, a 0-byte bucket, and a
    /// 512-byte reply above the 511 bound.
    func testSizesInBytes() {
        let sizes = ShardedHistogram(bounds: ServerMetrics.sizeBuckets, series: 2)
        sizes.record(0, value: 511, shard: 0)
        sizes.record(0, value: 512, shard: 5)
        sizes.record(1, value: 70_000, shard: 0)
        let text = sizes.render(name: "s", labels: #"server="x""#, seriesLabel: "proto", seriesNames: ["udp", "tcp"])
        let lines = text.split(separator: "\n")
        XCTAssertTrue(lines.contains(#"s_bucket{server="x",proto="udp",le="0"} 0"#))
        XCTAssertTrue(lines.contains(#"s_bucket{server="x",proto="udp",le="511"} 1"#))
        XCTAssertTrue(lines.contains(#"s_bucket{server="x",proto="udp",le="1023"} 2"#))
        XCTAssertTrue(lines.contains(#"s_sum{server="x",proto="udp"} 1023"#))
        XCTAssertTrue(lines.contains(#"s_bucket{server="x",proto="tcp",le="64000"} 0"#))
        XCTAssertTrue(lines.contains(#"s_bucket{server="x",proto="tcp",le="+Inf"} 1"#))
    }

    /// `count` observations of one value at once, as a datagram batch's replies are recorded:
    /// the same buckets, count and sum as recording them one by one.
    func testManyObservationsOfOneValueAtOnce() {
        let once = Self.durations(series: 1), oneByOne = Self.durations(series: 1)
        once.record(0, value: 300_000, count: 7, shard: 2)
        once.record(0, value: 9_000_000, count: 2, shard: 0)
        for _ in 0..<7 { oneByOne.record(0, value: 300_000, shard: 2) }
        for _ in 0..<2 { oneByOne.record(0, value: 9_000_000, shard: 0) }
        XCTAssertEqual(once.snapshot(0).buckets, oneByOne.snapshot(0).buckets)
        XCTAssertEqual(once.snapshot(0).count, 9)
        XCTAssertEqual(once.snapshot(0).sum, 0.0201, accuracy: 1e-12)
        XCTAssertEqual(Array(once.snapshot(0).buckets.prefix(2)), [0, 7])
    }

    /// A batch's replies are counted by type as they are staged, and their durations recorded
    /// at once when it is sent: every reply from the batch's read to that moment.
    func testBatchDurationsAreRecordedOnceTheBatchIsSent() {
        let metrics = ServerMetrics(server: "127.0.0.1:53")
        var batch = ServerMetrics.BatchDurations()
        let shard = ShardedCounters.shard(forListener: 1)
        for type in [UInt16(1), 1, 28] {
            metrics.recordQuery(
                questionType: type, requestBytes: 40, replyFlags: 0x80, replyBytes: 56, ipv6: false, source: .cache,
                batch: &batch, shard: shard)
        }
        let before = metrics.render()
        XCTAssertTrue(before.contains(#"coredns_dns_request_duration_seconds_count{server="dns://127.0.0.1:53",zone=".",view="",type="A"} 0"#))
        XCTAssertTrue(before.contains(#"coredns_dns_request_size_bytes_count{server="dns://127.0.0.1:53",zone=".",view="",proto="udp"} 3"#))
        metrics.recordDurations(&batch, started: NIODeadline.now() - TimeAmount.milliseconds(3), shard: shard)
        XCTAssertEqual(batch.total, 0, "the tally starts again for the next batch")
        let after = metrics.render()
        XCTAssertTrue(after.contains(#"coredns_dns_request_duration_seconds_count{server="dns://127.0.0.1:53",zone=".",view="",type="A"} 2"#))
        XCTAssertTrue(after.contains(#"coredns_dns_request_duration_seconds_count{server="dns://127.0.0.1:53",zone=".",view="",type="AAAA"} 1"#))
        // At least 3 ms: not in the 2.048 ms bucket, in the 4.096 ms one (unless this machine stalled).
        XCTAssertTrue(after.contains(#"coredns_dns_request_duration_seconds_bucket{server="dns://127.0.0.1:53",zone=".",view="",type="A",le="0.002"} 0"#))
        metrics.recordDurations(&batch, started: NIODeadline.now(), shard: shard)
        XCTAssertEqual(metrics.render(), after, "an empty batch records nothing")
    }
}
