@testable import DNSServer
import Foundation
import XCTest

/// The per-query counters: exact totals whether a thread owns its shard or shares shard 0,
/// and the exposition text swift-prometheus's counters wrote before them.
final class ShardedCountersTests: XCTestCase {
    func testEachListenerOwnsAShardUntilTheyRunOut() {
        XCTAssertEqual(ShardedCounters.shard(forListener: 0), 1)
        XCTAssertEqual(ShardedCounters.shard(forListener: 31), 32)
        XCTAssertEqual(ShardedCounters.shard(forListener: 32), 0, "beyond 32 threads they share the atomic shard")
        XCTAssertEqual(ShardedCounters.shard(forListener: 99), 0)
    }

    /// Four threads with shards of their own and four sharing shard 0, all at once: no count
    /// is lost. Plain stores in shard 0 would lose some of the shared threads' counts.
    func testConcurrentCountsAreExact() {
        let counters = ShardedCounters(labels: ["a", "b"])
        let perThread = 200_000
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            let shard = thread < 4 ? ShardedCounters.shard(forListener: thread) : 0
            for _ in 0..<perThread { counters.increment(1, shard: shard) }
        }
        XCTAssertEqual(counters.total(1), Int64(8 * perThread))
        XCTAssertEqual(counters.total(0), 0)
    }

    func testRenderedLikePrometheusCounters() {
        let counters = ShardedCounters(labels: [#"server="s",type="success""#, #"server="s",type="denial""#])
        counters.increment(0, shard: 3)
        counters.increment(0, shard: 0)
        XCTAssertEqual(counters.render(name: "c_total"), """
            # TYPE c_total counter
            c_total{server="s",type="success"} 2
            c_total{server="s",type="denial"} 0

            """)
        let unlabelled = ShardedCounters(labels: [""])
        XCTAssertEqual(unlabelled.render(name: "u"), "# TYPE u counter\nu 0\n")
    }
}
