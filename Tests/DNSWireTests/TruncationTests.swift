import DNSWire
import DNSTestSupport
import XCTest

/// Every proper prefix of a valid packet must be refused cleanly: no crash, no partial success.
final class TruncationTests: XCTestCase {
    private var queryWithEDNS: DNSMessage {
        DNSMessage(
            header: DNSHeader(id: 0x5151, flags: 0x0120),
            questions: [DNSQuestion(name: dn("Kubernetes.default.svc.cluster.local"), type: .a)],
            edns: EDNSRecord(udpPayloadSize: 1232, dnssecOK: true, options: [0x00, 0x0A, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]))
    }

    private var fullResponse: DNSMessage {
        let zone = dn("cluster.local")
        return DNSMessage(
            header: DNSHeader(id: 0x0102, flags: 0x8500),
            questions: [DNSQuestion(name: dn("_http._tcp.web.default.svc.cluster.local"), type: .srv)],
            answers: [
                ResourceRecord(name: dn("_http._tcp.web.default.svc.cluster.local"), ttl: 30,
                               data: .srv(SRVData(priority: 0, weight: 50, port: 80, target: dn("web-0.web.default.svc.cluster.local")))),
                ResourceRecord(name: dn("alias.default.svc.cluster.local"), ttl: 30, data: .cname(dn("web.default.svc.cluster.local"))),
                ResourceRecord(name: dn("web.default.svc.cluster.local"), ttl: 30, data: .txt([ascii("hello"), [], ascii("x y")])),
            ],
            authorities: [ResourceRecord(name: zone, ttl: 30, data: .soa(SOAData(
                mname: dn("ns.dns.cluster.local"), rname: dn("hostmaster.cluster.local"),
                serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 30)))],
            additionals: [
                ResourceRecord(name: dn("web-0.web.default.svc.cluster.local"), ttl: 30, data: .a(address("10.244.1.5"))),
                ResourceRecord(name: dn("web-0.web.default.svc.cluster.local"), ttl: 30, data: .aaaa(address("fd00:10:244:1::5"))),
            ],
            edns: EDNSRecord(udpPayloadSize: 1232))
    }

    private var handWrittenCompressed: [UInt8] {
        // www.example.com A with a pointer answer, as in MessageCodecTests.
        headerBytes(id: 1, flags: 0x8180, qd: 1, an: 1) + wire("www", "example", "com") + [0, 1, 0, 1]
            + [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]
    }

    func testEveryPrefixFailsToDecode() throws {
        let packets = [
            ("query+EDNS", queryWithEDNS.encoded()), ("response", fullResponse.encoded()),
            ("hand-written", handWrittenCompressed),
        ]
        for (label, bytes) in packets {
            XCTAssertNoThrow(try DNSMessage(decoding: bytes), label)
            XCTAssertGreaterThan(bytes.count, 40, label)
            for length in 0..<bytes.count {
                let prefix = Array(bytes[0..<length])
                let error = assertThrows(matching: isTruncated, "\(label) prefix \(length)") {
                    try DNSMessage(decoding: prefix)
                }
                if case .truncated(let offset)? = error {
                    XCTAssertLessThanOrEqual(offset, length, "\(label) prefix \(length)")
                }
            }
        }
    }

    func testEveryPrefixOfAQueryIsDroppedOrFormErr() {
        for bytes in [queryWithEDNS.encoded(), Array(queryWithEDNS.encoded().dropLast(23)).replacing(at: 11, with: 0)] {
            guard case .query = parseQuery(bytes).result else { return XCTFail("the full query must parse") }
            for length in 0..<bytes.count {
                switch parseQuery(Array(bytes[0..<length])).result {
                case .drop:
                    XCTAssertLessThan(length, 12, "only a packet without a full header is dropped")
                case .reject(let code, let id, _):
                    XCTAssertGreaterThanOrEqual(length, 12)
                    XCTAssertEqual(code, .formErr, "prefix \(length)")
                    XCTAssertEqual(id, 0x5151)
                case .query:
                    XCTFail("prefix \(length) of \(bytes.count) parsed as a query")
                }
            }
        }
    }

    /// Random corruption must never crash either decoder, and whatever decodes must re-encode
    /// to something that decodes to the same message.
    func testMutatedPacketsNeverCrash() throws {
        var generator = SplitMix64(seed: 7)
        let seeds = [queryWithEDNS.encoded(), fullResponse.encoded(), handWrittenCompressed]
        for round in 0..<3000 {
            guard var bytes = seeds.randomElement(using: &generator) else { return }
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            _ = parseQuery(bytes)
            if let decoded = try? DNSMessage(decoding: bytes) {
                let again = try DNSMessage(decoding: decoded.encoded())
                XCTAssertEqual(again.questions, decoded.questions, "round \(round): \(Hex.format(bytes))")
                XCTAssertEqual(again.answers, decoded.answers, "round \(round)")
                XCTAssertEqual(again.authorities, decoded.authorities, "round \(round)")
                XCTAssertEqual(again.edns, decoded.edns, "round \(round)")
            }
        }
    }
}

private extension Array where Element == UInt8 {
    func replacing(at index: Int, with value: UInt8) -> [UInt8] {
        var copy = self
        copy[index] = value
        return copy
    }
}
