@testable import DNSServer
import XCTest

/// The lock-free request-duration histogram: Prometheus `le` semantics, cumulative buckets,
/// shards summed, and the text CoreDNS's dashboards read.
final class RequestDurationsTests: XCTestCase {
    func testBucketsAreCumulativeAndInclusiveAcrossShards() {
        let durations = RequestDurations(types: 2)
        durations.record(type: 0, nanoseconds: 250_000, shard: 0)      // exactly the first bound: le="0.00025"
        durations.record(type: 0, nanoseconds: 250_001, shard: 1)      // just above: le="0.0005"
        durations.record(type: 0, nanoseconds: 3_000_000, shard: 2)    // le="0.004"
        durations.record(type: 0, nanoseconds: 60_000_000_000, shard: RequestDurations.shard(forListener: 99))  // beyond all
        durations.record(type: 1, nanoseconds: 1, shard: 0)
        let (buckets, count, sum) = durations.snapshot(type: 0)
        XCTAssertEqual(count, 4)
        XCTAssertEqual(Array(buckets.prefix(5)), [1, 2, 2, 2, 3])
        XCTAssertEqual(buckets.last, 3, "the 60 s query is only in +Inf")
        XCTAssertEqual(sum, 60.003500001, accuracy: 1e-9)
        XCTAssertEqual(durations.snapshot(type: 1).count, 1)
    }

    func testRenderedSeriesPerType() {
        let durations = RequestDurations(types: 2)
        durations.record(type: 1, nanoseconds: 400_000, shard: 3)
        let text = durations.render(name: "h", labels: #"server="s""#, typeNames: ["A", "other"])
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
}
