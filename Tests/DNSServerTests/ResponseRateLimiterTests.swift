import DNSWire
@testable import DNSServer
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Response rate limiting's decisions (issue #11 item 8); `RateLimitTests` checks the real
/// binary.
final class ResponseRateLimiterTests: XCTestCase {
    private static func client(_ text: String) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(text)
            withUnsafeBytes(of: &address) { raw.copyMemory(from: $0) }
        }
        return storage
    }

    private static func reply(_ name: String, _ type: RecordType = .a, rcode: ResponseCode = .noError) throws -> [UInt8] {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: type)])
        message.header[.response] = true
        message.header.rcodeLow = UInt8(rcode.rawValue)
        if rcode == .noError {
            message.answers = [ResourceRecord(name: try DomainName(name), ttl: 5, data: .a(IPAddress("10.0.0.1")!))]
        }
        return message.encoded()
    }

    func testIdenticalAnswersBeyondTheRateAreDroppedOrSlipped() throws {
        var limiter = ResponseRateLimiter(settings: .init(responsesPerSecond: 3, slip: 2))
        let web = try Self.reply("web.shop.svc.cluster.local"), one = Self.client("10.1.0.1")
        let decisions = (0..<9).map { _ in web.withUnsafeBytes { limiter.decide(reply: $0, client: one, second: 7) } }
        XCTAssertEqual(decisions, [.send, .send, .send, .drop, .truncate, .drop, .truncate, .drop, .truncate])
        // Other clients, other questions and the next second are their own streams.
        XCTAssertEqual(web.withUnsafeBytes { limiter.decide(reply: $0, client: Self.client("10.1.0.2"), second: 7) }, .send)
        let other = try Self.reply("api.shop.svc.cluster.local")
        XCTAssertEqual(other.withUnsafeBytes { limiter.decide(reply: $0, client: one, second: 7) }, .send)
        let aaaa = try Self.reply("WEB.shop.svc.cluster.local", .aaaa)
        XCTAssertEqual(aaaa.withUnsafeBytes { limiter.decide(reply: $0, client: one, second: 7) }, .send)
        XCTAssertEqual(web.withUnsafeBytes { limiter.decide(reply: $0, client: one, second: 8) }, .send)
        // The question is compared in DNS lower case (RFC 4343).
        let upper = try Self.reply("WEB.shop.svc.cluster.local")
        for _ in 0..<2 { _ = upper.withUnsafeBytes { limiter.decide(reply: $0, client: one, second: 8) } }
        XCTAssertNotEqual(upper.withUnsafeBytes { limiter.decide(reply: $0, client: one, second: 8) }, .send)
    }

    /// NXDOMAIN answers to one client are one stream whatever the name: a flood of random
    /// names is limited like one name. With slip 0 every limited answer is dropped.
    func testNXDomainFloodsOfRandomNamesAreOneStream() throws {
        var limiter = ResponseRateLimiter(settings: .init(responsesPerSecond: 2, slip: 0))
        let client = Self.client("10.1.0.1")
        let decisions = try (0..<5).map { index in
            try Self.reply("r\(index).example.com", rcode: .nxDomain).withUnsafeBytes { limiter.decide(reply: $0, client: client, second: 1) }
        }
        XCTAssertEqual(decisions, [.send, .send, .drop, .drop, .drop])
    }

    func testClientsAreGroupedByPrefix() throws {
        var limiter = ResponseRateLimiter(settings: .init(responsesPerSecond: 1, ipv4PrefixLength: 24))
        let web = try Self.reply("web.shop.svc.cluster.local")
        XCTAssertEqual(web.withUnsafeBytes { limiter.decide(reply: $0, client: Self.client("10.1.0.1"), second: 1) }, .send)
        XCTAssertNotEqual(web.withUnsafeBytes { limiter.decide(reply: $0, client: Self.client("10.1.0.77"), second: 1) }, .send)
        XCTAssertEqual(web.withUnsafeBytes { limiter.decide(reply: $0, client: Self.client("10.1.1.1"), second: 1) }, .send)
    }

    /// The slipped reply: header and question, TC set, no records; it still decodes.
    func testTruncatedReplyKeepsHeaderAndQuestion() throws {
        var bytes = try Self.reply("web.shop.svc.cluster.local")
        let length = bytes.withUnsafeMutableBytes { ResponseRateLimiter.truncate($0, length: $0.count) }
        let message = try DNSMessage(decoding: Array(bytes.prefix(length)))
        XCTAssertTrue(message.header[.truncated])
        XCTAssertEqual(message.questions.map(\.name), [try DomainName("web.shop.svc.cluster.local")])
        XCTAssertEqual(message.answers.count + message.authorities.count + message.additionals.count, 0)
        XCTAssertEqual(length, 12 + 28 + 4)
        // Nonsense in, a bare header out, never past the reply.
        var junk: [UInt8] = [0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1, 2]
        let junkLength = junk.withUnsafeMutableBytes { ResponseRateLimiter.truncate($0, length: $0.count) }
        XCTAssertEqual(junkLength, 12)
    }
}
