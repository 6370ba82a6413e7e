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

    /// A single-record answer and types other than A, AAAA and SRV are returned as compiled.
    func testOtherAnswersAreUntouched() {
        for (name, type) in [(Zone.svc("svc1"), RecordType.a), ("_http._tcp." + Zone.svc("svc1"), .srv), (Zone.svc("alias"), .cname),
                             (Zone.svc("hdls"), .txt)] {
            var query = TestQuery(name: name, type: type)
            query.id = 5
            XCTAssertEqual(
                Harness.exchange(query, options: ResponderOptions(shuffle: true)).reply,
                Harness.exchange(query, options: ResponderOptions(shuffle: false)).reply, "\(name) \(type)")
        }
    }

    private func reply(_ name: String, _ type: RecordType, id: UInt16, edns: Bool, shuffle: Bool = true) throws
        -> (answer: [String], additional: [String], truncated: Bool)
    {
        var query = TestQuery(name: name, type: type, edns: edns ? EDNSRecord(udpPayloadSize: 4096) : nil)
        query.id = id
        let bytes = Harness.exchange(query, options: ResponderOptions(maxUDPPayload: 4096, shuffle: shuffle)).reply
        // Our own decoder must read it too: a pointer left behind by a move would not decode.
        let message = try DNSMessage(decoding: bytes)
        let answer = try Harness.ldnsLines(bytes, .answer), additional = try Harness.ldnsLines(bytes, .additional)
        XCTAssertEqual(Harness.ownLines(message.answers), answer)
        XCTAssertEqual(Harness.ownLines(message.additionals), additional)
        return (answer, additional, bytes[2] & 0x02 != 0)
    }

    /// SRV records differ in size, so they move as byte blocks, and the additional A records,
    /// whose owners point at the SRV targets, must still name the same hosts (issue #10).
    func testSRVSetsRotateAndTheirAdditionalRecordsFollow() throws {
        for name in ["_http._tcp." + Zone.svc("forty"), "_http._tcp." + Zone.svc("mid"), Zone.svc("mid")] {
            let stable = try reply(name, .srv, id: 0, edns: true, shuffle: false)
            XCTAssertFalse(stable.truncated)
            XCTAssertGreaterThan(stable.answer.count, 1, name)
            XCTAssertEqual(stable.additional.count, stable.answer.count, name)
            for id: UInt16 in [1, 5, 6, 39, 999, 40_000, 65_535] {
                let rotated = try reply(name, .srv, id: id, edns: true)
                let shift = Int(id) % stable.answer.count
                XCTAssertEqual(rotated.answer, Array(stable.answer[shift...] + stable.answer[..<shift]), "\(name) id \(id)")
                XCTAssertEqual(rotated.additional, stable.additional, "\(name) id \(id): additional records unchanged")
            }
        }
    }

    /// A set too large for 512 bytes: with shuffling, each query gets the records that fit,
    /// starting at its own rotation, with TC; without, whole RRsets are dropped as before.
    func testTruncatedSetsSendDifferentSubsets() throws {
        for (name, type) in [("_http._tcp." + Zone.svc("forty"), RecordType.srv), (Zone.svc("forty"), .a), (Zone.svc("big"), .a)] {
            let full = try reply(name, type, id: 0, edns: true, shuffle: false).answer
            XCTAssertFalse(full.isEmpty)
            let unshuffled = try reply(name, type, id: 3, edns: false, shuffle: false)
            XCTAssertTrue(unshuffled.truncated)
            XCTAssertEqual(unshuffled.answer, [], "\(name): --no-shuffle keeps whole-RRset truncation")
            var firsts: Set<String> = []
            for id: UInt16 in [0, 1, 2, 7, 20, 33, 39, 1_005] {
                let cut = try reply(name, type, id: id, edns: false)
                XCTAssertTrue(cut.truncated, name)
                XCTAssertEqual(cut.additional, [], name)
                XCTAssertGreaterThan(cut.answer.count, 1, name)
                XCTAssertLessThan(cut.answer.count, full.count, name)
                let shift = Int(id) % full.count
                let expected = (0..<cut.answer.count).map { full[(shift + $0) % full.count] }
                XCTAssertEqual(cut.answer, expected, "\(name) id \(id): the run that starts at this query's rotation")
                firsts.insert(cut.answer[0])
            }
            XCTAssertEqual(firsts.count, 8, "\(name): different queries, different subsets")
        }
    }
}
