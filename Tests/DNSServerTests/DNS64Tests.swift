@testable import DNSServer
import DNSWire
import XCTest

/// DNS64's parts (RFC 6147, RFC 6052): the prefix, which replies need synthesis, the synthesized
/// reply, and the reverse mapping. `ResolverTests` runs it against NSD.
final class DNS64Tests: XCTestCase {
    func testOnlyASlash96PrefixIsTaken() {
        XCTAssertEqual(DNS64(prefix: "64:ff9b::/96"), DNS64.wellKnown)
        XCTAssertEqual(DNS64(prefix: "2001:db8:64::/96")?.synthesized(0xC000_0201).description, "2001:db8:64::c000:201")
        XCTAssertEqual(DNS64.wellKnown.synthesized(0xC000_0201).description, "64:ff9b::c000:201")
        for refused in ["64:ff9b::/64", "64:ff9b::", "64:ff9b::1/96", "192.0.2.0/96", "nonsense/96"] {
            XCTAssertNil(DNS64(prefix: refused), refused)
        }
    }

    private func reply(_ rcode: ResponseCode = .noError, answers: [ResourceRecord], soaMinimum: UInt32? = nil) throws -> [UInt8] {
        let name = try DomainName("host.example")
        var message = DNSMessage(questions: [DNSQuestion(name: name, type: .aaaa)])
        message.header[.response] = true
        message.header.rcodeLow = UInt8(rcode.rawValue)
        message.answers = answers
        if let soaMinimum {
            message.authorities = [ResourceRecord(name: try DomainName("example"), ttl: 900, data: .soa(SOAData(
                mname: try DomainName("ns.example"), rname: try DomainName("admin.example"), serial: 1, refresh: 1, retry: 1,
                expire: 1, minimum: soaMinimum)))]
        }
        return message.encoded()
    }

    /// RFC 6147 §5.1.1, §5.1.4: only NOERROR replies without a usable AAAA are synthesized;
    /// IPv4-mapped addresses do not count as usable.
    func testWhichRepliesNeedSynthesis() throws {
        let name = try DomainName("host.example")
        XCTAssertTrue(DNS64.needsSynthesis(try reply(answers: [])))
        XCTAssertTrue(DNS64.needsSynthesis(try reply(answers: [ResourceRecord(name: name, ttl: 60, data: .aaaa(IPAddress("::ffff:192.0.2.1")!))])))
        XCTAssertFalse(DNS64.needsSynthesis(try reply(answers: [ResourceRecord(name: name, ttl: 60, data: .aaaa(IPAddress("2001:db8::1")!))])))
        XCTAssertFalse(DNS64.needsSynthesis(try reply(.nxDomain, answers: [])))
        XCTAssertFalse(DNS64.needsSynthesis(try reply(.servFail, answers: [])))
        XCTAssertFalse(DNS64.needsSynthesis([1, 2, 3]))
    }

    /// The A reply's CNAME chain is kept and each address embedded; the TTL is the A record's,
    /// capped by the negative TTL of the AAAA reply's SOA (RFC 6147 §5.1.7).
    func testSynthesizedReplyKeepsTheChainAndCapsTheTTL() throws {
        let alias = try DomainName("host.example"), canonical = try DomainName("real.example")
        var addresses = DNSMessage(questions: [DNSQuestion(name: alias, type: .a)])
        addresses.header[.response] = true
        addresses.answers = [
            ResourceRecord(name: alias, ttl: 300, data: .cname(canonical)),
            ResourceRecord(name: canonical, ttl: 600, data: .a(IPAddress("192.0.2.1")!)),
            ResourceRecord(name: canonical, ttl: 30, data: .a(IPAddress("192.0.2.2")!)),
        ]
        let synthesized = try XCTUnwrap(DNS64.wellKnown.synthesize(aaaaReply: try reply(answers: [], soaMinimum: 120), aReply: addresses.encoded()))
        let message = try DNSMessage(decoding: synthesized)
        XCTAssertEqual(message.questions.first?.type, .aaaa)
        XCTAssertEqual(message.answerLines, [
            "host.example. CNAME real.example.", "real.example. AAAA 64:ff9b::c000:201", "real.example. AAAA 64:ff9b::c000:202",
        ])
        XCTAssertEqual(message.answers.map(\.ttl), [300, 120, 30])
        XCTAssertTrue(message.authorities.isEmpty)
        // No A records: nothing to synthesize, the AAAA reply stands.
        var empty = addresses
        empty.answers = []
        XCTAssertNil(DNS64.wellKnown.synthesize(aaaaReply: try reply(answers: []), aReply: empty.encoded()))
    }

    func testPointerNamesInsideThePrefixMapToTheIPv4ReverseName() throws {
        let inside = DNS64.wellKnown.synthesized(0xC000_0201).reverseDomainName
        XCTAssertEqual(DNS64.wellKnown.ipv4ReverseName(for: inside)?.description, "1.2.0.192.in-addr.arpa.")
        let upper = try DomainName(inside.description.uppercased())
        XCTAssertEqual(DNS64.wellKnown.ipv4ReverseName(for: upper)?.description, "1.2.0.192.in-addr.arpa.", "any case")
        XCTAssertNil(DNS64.wellKnown.ipv4ReverseName(for: IPAddress("2001:db8::c000:201")!.reverseDomainName), "outside the prefix")
        XCTAssertNil(DNS64.wellKnown.ipv4ReverseName(for: try DomainName("1.2.0.192.in-addr.arpa")))
    }
}
