import ClusterRegistry
import DNSResponder
import DNSTestSupport
import DNSWire
import XCTest

/// A seeded mutation fuzzer over the responder (issue #11: "no input can trap"), run in CI: valid
/// queries of every shape the cluster answers, mutated the ways parsers break (bit flips, byte
/// overwrites, compression pointers, counts, cuts, insertions, duplicated slices), each
/// answered by the real responder on the test cluster. A trap ends the test process, which
/// fails the run. Every reply must be a response to that query that an independent decoder
/// (ldns) accepts, within the transport's size limit. The seed and iteration are printed on a
/// failed check, so a failure replays.
final class MutationFuzzTests: XCTestCase {
    /// Valid queries: names in every part of the cluster zone and outside it, with and without
    /// EDNS, of the types clients send.
    private static let corpus: [[UInt8]] = {
        let names = [
            "web.testns.svc.cluster.local", "hdls.testns.svc.cluster.local", "web-0.hdls.testns.svc.cluster.local",
            "_http._tcp.hdls.testns.svc.cluster.local", "big.testns.svc.cluster.local", "ext.testns.svc.cluster.local",
            "1-2-3-4.testns.pod.cluster.local", "4.3.2.1.in-addr.arpa", "cluster.local", "dns-version.cluster.local",
            "nope.nope.svc.cluster.local", "example.com", "svc.cluster.local",
        ]
        let types: [RecordType] = [.a, .aaaa, .srv, .ptr, .txt, .soa, .ns, .cname, RecordType(rawValue: 255)]
        var corpus: [[UInt8]] = []
        for (index, name) in names.enumerated() {
            for type in types {
                let edns = index % 2 == 0 ? EDNSRecord(udpPayloadSize: 1232) : nil
                corpus.append(TestQuery(name: name, type: type, edns: edns, id: UInt16(index)).bytes)
            }
        }
        return corpus
    }()

    private static func mutate(_ packet: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var packet = packet
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let position = packet.isEmpty ? 0 : Int(random.next() % UInt64(packet.count))
            switch random.next() % 9 {
            case 0 where !packet.isEmpty: packet[position] ^= UInt8(1 << (random.next() % 8))
            case 1 where !packet.isEmpty: packet[position] = UInt8(truncatingIfNeeded: random.next())
            case 2 where packet.count > 1:  // a compression pointer anywhere, to anywhere
                packet[position] = 0xC0 | UInt8(truncatingIfNeeded: random.next() & 0x3F)
                packet[(position + 1) % packet.count] = UInt8(truncatingIfNeeded: random.next())
            case 3 where packet.count >= 12:  // a count: QD, AN, NS or AR
                let field = 4 + 2 * Int(random.next() % 4)
                packet[field] = UInt8(truncatingIfNeeded: random.next() % 3)
                packet[field + 1] = [0, 1, 2, 0xFF][Int(random.next() % 4)]
            case 4: packet = Array(packet.prefix(position))
            case 5: packet.insert(contentsOf: (0..<Int(random.next() % 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: position)
            case 6 where !packet.isEmpty:  // a slice of itself, repeated
                let end = min(packet.count, position + 1 + Int(random.next() % 16))
                packet.insert(contentsOf: packet[position..<end], at: end)
            case 7 where !packet.isEmpty: packet[position] = [0, 63, 64, 0x3F, 0x40, 0x80, 0xFF][Int(random.next() % 7)]
            default: packet.append(UInt8(truncatingIfNeeded: random.next()))
            }
        }
        return packet
    }

    func testMutatedQueriesNeverTrapAndAlwaysGetWellFormedReplies() throws {
        let seed: UInt64 = 0x5EED_F022
        var random = SplitMix64(seed: seed)
        var outcomes: [String: Int] = [:]
        for iteration in 0..<150_000 {
            let original = Self.corpus[Int(random.next() % UInt64(Self.corpus.count))]
            let packet = Self.mutate(original, &random)
            let transport: Transport = iteration % 4 == 0 ? .tcp : .udp
            let exchange = Harness.exchange(packet, transport: transport)
            let context = "seed \(seed), iteration \(iteration), packet \(packet)"
            switch exchange.outcome {
            case .drop:
                outcomes["drop", default: 0] += 1
            case .forward:
                outcomes["forward", default: 0] += 1
            case .reply, .chase:
                outcomes["reply", default: 0] += 1
                let reply = exchange.reply
                XCTAssertGreaterThanOrEqual(reply.count, DNSHeader.byteCount, context)
                XCTAssertLessThanOrEqual(reply.count, transport == .tcp ? 65_535 : 4_096, context)
                XCTAssertEqual(Array(reply.prefix(2)), Array(packet.prefix(2)), "the query's ID: \(context)")
                XCTAssertNotEqual(reply[2] & 0x80, 0, "QR: \(context)")
                XCTAssertNoThrow(try LDNSOracle.packetText(reply), context)
            }
        }
        // The mutations must reach every outcome, or the fuzzer tests little.
        XCTAssertGreaterThan(outcomes["reply"] ?? 0, 25_000, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["drop"] ?? 0, 500, "\(outcomes)")
        XCTAssertGreaterThan(outcomes["forward"] ?? 0, 500, "\(outcomes)")
    }
}
