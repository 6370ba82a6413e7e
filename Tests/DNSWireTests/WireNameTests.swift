import DNSWire
import XCTest

/// The one wire-name walker (issue #10): label-aligned suffixes, the first question, pointers.
final class WireNameTests: XCTestCase {
    private func wire(_ name: String) throws -> [UInt8] { try DomainName(name).lowercasedWire }

    func testSuffixesMatchOnLabelBoundariesOnly() throws {
        let cases: [(String, String, Bool)] = [
            ("b.example.com", "example.com", true),
            ("example.com", "example.com", true),
            ("bexample.com", "example.com", false),  // a suffix of bytes, not of labels
            ("com", "example.com", false),
            ("a.b.example.com", "com", true),
            ("example.com", ".", true),  // the root ends every name
        ]
        for (name, suffix, expected) in cases {
            let name = try wire(name), suffix = try wire(suffix)
            let found = name.withUnsafeBytes { name in suffix.withUnsafeBytes { WireName.hasSuffix(name, $0) } }
            XCTAssertEqual(found, expected, "\(name) \(suffix)")
        }
    }

    func testFirstQuestion() throws {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName("www.example.com"), type: .aaaa)])
        message.header.id = 1
        let bytes = message.encoded()
        let question = try XCTUnwrap(bytes.withUnsafeBytes { WireName.firstQuestion($0) })
        XCTAssertEqual(question.type, RecordType.aaaa.rawValue)
        XCTAssertEqual(question.nameEnd, 12 + 17)
        XCTAssertEqual(question.end, bytes.count)
        // Cut inside the class, or a name that is a pointer: no whole question.
        XCTAssertNil(Array(bytes.dropLast()).withUnsafeBytes { WireName.firstQuestion($0) })
        let pointed = Array(bytes[..<12]) + [0xC0, 0x0C, 0, 1, 0, 1]
        XCTAssertNil(pointed.withUnsafeBytes { WireName.firstQuestion($0) })
        XCTAssertNil(Array(bytes[..<12]).withUnsafeBytes { WireName.firstQuestion($0) })
    }

    func testWalkStopsAtAPointerAndRefusesReservedLabelTypes() {
        let bytes: [UInt8] = [3, 0x61, 0x62, 0x63, 0xC0, 0x20, 0x40, 0x01]
        let walked = bytes.withUnsafeBytes { WireName.walk($0, from: 0) }
        XCTAssertEqual(walked?.end, 6)
        XCTAssertEqual(walked?.pointer?.at, 4)
        XCTAssertEqual(walked?.pointer?.target, 0x20)
        XCTAssertNil(bytes.withUnsafeBytes { WireName.walk($0, from: 6) }, "0x40 is reserved (RFC 6891 §5)")
        XCTAssertNil([UInt8]([5, 0x61]).withUnsafeBytes { WireName.walk($0, from: 0) }, "runs past the end")
    }
}
