import ClusterRegistry
import DNSResponder
import DNSTestSupport
import DNSWire
import XCTest

/// Address RRsets are rotated per query (issue #10): every address comes first for some
/// queries, the RRset itself never changes, and `--no-shuffle` keeps the compiled order.
final class AddressRotationTests: XCTestCase {
    private func answers(_ name: String, _ type: RecordType, id: UInt16, shuffle: Bool = true) throws -> [String] {
        // EDNS, so that 40 addresses fit (truncated answers are not rotated).
        var query = TestQuery(name: name, type: type, edns: EDNSRecord(udpPayloadSize: 4096))
        query.id = id
        let exchange = Harness.exchange(query, options: ResponderOptions(maxUDPPayload: 4096, shuffle: shuffle))
        return try Harness.ldnsLines(exchange.reply, .answer)
    }

    func testEveryAddressComesFirstAndTheSetStays() throws {
        for (name, type, count) in [(Zone.svc("hdls"), RecordType.a, 4), (Zone.svc("hdls-v6"), .aaaa, 2), (Zone.svc("forty"), .a, 40)] {
            let stable = try answers(name, type, id: 0, shuffle: false)
            XCTAssertEqual(stable.count, count, name)
            var firsts: Set<String> = []
            var generator = SplitMix64(seed: 7)
            for _ in 0..<(count * 50) {
                let rotated = try answers(name, type, id: UInt16.random(in: 0...UInt16.max, using: &generator))
                XCTAssertEqual(rotated.sorted(), stable.sorted(), "\(name): the same RRset")
                if let first = rotated.first { firsts.insert(first) }
            }
            XCTAssertEqual(firsts, Set(stable), "\(name): every address comes first")
        }
    }

    /// A rotation, not any shuffle: the order is the compiled one shifted by the ID.
    func testRotationByTheQueryID() throws {
        let stable = try answers(Zone.svc("hdls"), .a, id: 0, shuffle: false)
        XCTAssertEqual(try answers(Zone.svc("hdls"), .a, id: 5), Array(stable[1...] + stable[..<1]))  // 5 mod 4
        XCTAssertEqual(try answers(Zone.svc("hdls"), .a, id: 6), Array(stable[2...] + stable[..<2]))
        XCTAssertEqual(try answers(Zone.svc("hdls"), .a, id: 8), stable)
    }

    func testNoShuffleIsStable() throws {
        let stable = try answers(Zone.svc("hdls"), .a, id: 0, shuffle: false)
        for id: UInt16 in [1, 2, 5, 999, 40000] {
            XCTAssertEqual(try answers(Zone.svc("hdls"), .a, id: id, shuffle: false), stable)
        }
    }

    /// A single-address answer and non-address types are returned as compiled.
    func testOtherAnswersAreUntouched() {
        for (name, type) in [(Zone.svc("hdls"), RecordType.srv), (Zone.svc("mid"), .srv)] {
            var query = TestQuery(name: name, type: type)
            query.id = 5
            XCTAssertEqual(
                Harness.exchange(query, options: ResponderOptions(shuffle: true)).reply,
                Harness.exchange(query, options: ResponderOptions(shuffle: false)).reply, "\(name) \(type)")
        }
    }
}
