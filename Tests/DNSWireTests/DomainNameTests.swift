import DNSWire
import DNSTestSupport
import XCTest

final class DomainNameTests: XCTestCase {
    // MARK: Presentation form (RFC 1035 §5.1)

    func testParsesRelativeAndAbsoluteSpellingToTheSameWire() throws {
        let expected: [UInt8] = [3, 0x77, 0x77, 0x77, 7] + ascii("example") + [3] + ascii("com") + [0]
        XCTAssertEqual(try DomainName("www.example.com").wire, expected)
        XCTAssertEqual(try DomainName("www.example.com.").wire, expected)
        XCTAssertEqual(try DomainName("www.example.com").description, "www.example.com.")
    }

    func testRoot() throws {
        XCTAssertEqual(try DomainName(".").wire, [0])
        XCTAssertEqual(DomainName.root.wire, [0])
        XCTAssertTrue(DomainName.root.isRoot)
        XCTAssertEqual(DomainName.root.description, ".")
        XCTAssertEqual(DomainName.root.labelCount, 0)
        XCTAssertFalse(dn("a.").isRoot)
    }

    func testRejectsEmptyLabels() {
        for text in ["a..b", ".a", "a..", "..", "a.b.."] {
            assertThrows(matching: isInvalidPresentation, text) { try DomainName(text) }
        }
    }

    func testEscapedDotStaysInsideTheLabel() throws {
        let parsed = try DomainName("a\\.b.c")
        XCTAssertEqual(parsed.wire, [3, 0x61, 0x2E, 0x62, 1, 0x63, 0])
        XCTAssertEqual(parsed.labelCount, 2)
        XCTAssertEqual(parsed.description, "a\\.b.c.")
    }

    func testDecimalEscapes() throws {
        XCTAssertEqual(try DomainName("a\\032b").wire, [3, 0x61, 0x20, 0x62, 0])
        XCTAssertEqual(try DomainName("\\000\\255").wire, [2, 0, 255, 0])
        XCTAssertEqual(try DomainName("\\065").wire, [1, 0x41, 0])
        XCTAssertEqual(try DomainName("a\\\\b").wire, [3, 0x61, 0x5C, 0x62, 0])
        assertThrows(matching: isInvalidPresentation) { try DomainName("\\256") }
        assertThrows(matching: isInvalidPresentation) { try DomainName("abc\\") }
    }

    func testDescriptionEscapesSpecialAndNonPrintableBytes() throws {
        let labels: [[UInt8]] = [[0x20, 0x41], [0x2E], [0x5C], [0x22, 0x3B, 0x28, 0x29], [0x00, 0x7F, 0xFF]]
        XCTAssertEqual(
            try DomainName(labels: labels).description,
            "\\032A.\\..\\\\.\\\"\\;\\(\\).\\000\\127\\255.")
    }

    func testEveryByteValueRoundTripsThroughPresentation() throws {
        // 256 values do not fit one name (255 bytes), so use two names of 128 bytes each.
        for half in 0..<2 {
            let values = (0..<128).map { UInt8(half * 128 + $0) }
            let labels = stride(from: 0, to: 128, by: 32).map { Array(values[$0..<$0 + 32]) }
            let original = try DomainName(labels: labels)
            let reparsed = try DomainName(original.description)
            XCTAssertEqual(reparsed.wire, original.wire, original.description)
        }
    }

    // MARK: Limits

    func testLabelOf63BytesIsAcceptedAnd64Rejected() throws {
        let ok = String(repeating: "a", count: 63), bad = String(repeating: "a", count: 64)
        XCTAssertEqual(try DomainName(ok + ".com").wire.count, 1 + 63 + 4 + 1)
        assertThrows(.labelTooLong(at: 0)) { try DomainName(bad + ".com") }
        assertThrows(.labelTooLong(at: 4)) { try DomainName("com." + bad) }
        assertThrows(.labelTooLong(at: 0)) { try DomainName(labels: [Array(bad.utf8)]) }
        assertThrows(.labelTooLong(at: 0)) { try DomainName(wire: [64] + ascii(bad) + [0]) }
    }

    func testNameOf255BytesIsAcceptedAnd256Rejected() throws {
        let long = String(repeating: "a", count: 63)
        // 3 × (1 + 63) + (1 + 61) + 1 = 255
        let max = [long, long, long, String(repeating: "b", count: 61)].joined(separator: ".")
        XCTAssertEqual(try DomainName(max).wire.count, 255)
        let tooLong = [long, long, long, String(repeating: "b", count: 62)].joined(separator: ".")
        assertThrows(.nameTooLong(at: 0)) { try DomainName(tooLong) }
        let labels = [long, long, long, String(repeating: "b", count: 62)].map { Array($0.utf8) }
        assertThrows(.nameTooLong(at: 0)) { try DomainName(labels: labels) }
        let wireForm: [UInt8] = labels.flatMap { label -> [UInt8] in [UInt8(label.count)] + label } + [0]
        XCTAssertEqual(wireForm.count, 256)
        assertThrows(.nameTooLong(at: 0)) { try DomainName(wire: wireForm) }
        XCTAssertEqual(try DomainName(wire: Array(wireForm.dropFirst(64))).wire.count, 192)
    }

    func testWireInitValidatesStructure() throws {
        XCTAssertEqual(try DomainName(wire: wire("a", "b")).description, "a.b.")
        assertThrows(.truncated(at: 2)) { try DomainName(wire: [1, 0x61]) }
        assertThrows(.truncated(at: 0)) { try DomainName(wire: []) }
        assertThrows(.trailingBytes(at: 3)) { try DomainName(wire: [1, 0x61, 0, 0]) }
        // A compression pointer has no place in an uncompressed name.
        assertThrows(matching: { _ in true }) { try DomainName(wire: [0xC0, 0x0C]) }
        assertThrows(matching: isInvalidPresentation) { try DomainName(labels: [[UInt8]()]) }
    }

    // MARK: Case (RFC 4343)

    func testEqualityAndHashIgnoreASCIICaseButKeepSpelling() {
        let upper = dn("WWW.Example.COM"), lower = dn("www.example.com")
        XCTAssertEqual(upper, lower)
        XCTAssertEqual(upper.hashValue, lower.hashValue)
        XCTAssertEqual(Set([upper, lower]).count, 1)
        XCTAssertEqual(upper.description, "WWW.Example.COM.")
        XCTAssertEqual(upper.lowercasedWire, lower.wire)
        XCTAssertEqual(upper.lowercased().wire, lower.wire)
        XCTAssertEqual(DomainName.lowercase(0x5A), 0x7A)
        XCTAssertNotEqual(dn("www.example.com"), dn("www.example.org"))
        XCTAssertNotEqual(dn("a.b"), dn("ab"))
    }

    func testOnlyASCIILettersFold() {
        // Pairs that differ only in bit 0x20 but are not letters must stay distinct.
        let pairs: [(UInt8, UInt8)] = [(0x40, 0x60), (0x5B, 0x7B), (0x5E, 0x7E), (0xC3, 0xE3), (0x10, 0x30)]
        for (a, b) in pairs {
            let left = dn("x\\" + pad(a)), right = dn("x\\" + pad(b))
            XCTAssertNotEqual(left, right, "\(a) vs \(b)")
            XCTAssertEqual(DomainName.lowercase(a), a)
        }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") {
            XCTAssertEqual(DomainName.lowercase(byte), byte + 0x20)
        }
    }

    private func pad(_ value: UInt8) -> String {
        let digits = String(value)
        return String(repeating: "0", count: 3 - digits.count) + digits
    }

    // MARK: Structure

    func testLabelsParentAndPrepending() throws {
        let full = dn("a.bb.ccc")
        XCTAssertEqual(full.labels.map { Array($0) }, [ascii("a"), ascii("bb"), ascii("ccc")])
        XCTAssertEqual(full.labelCount, 3)
        XCTAssertEqual(full.parent.wire, wire("bb", "ccc"))
        XCTAssertEqual(full.parent.parent.parent, .root)
        XCTAssertEqual(DomainName.root.parent, .root)
        XCTAssertEqual(try full.prepending("x.y").wire, wire("x", "y", "a", "bb", "ccc"))
        XCTAssertEqual(try full.prepending(labels: [ascii("z")[...]]).description, "z.a.bb.ccc.")
        let nearlyFull = dn([String](repeating: String(repeating: "a", count: 63), count: 3).joined(separator: "."))
        assertThrows(.nameTooLong(at: 0)) { try nearlyFull.prepending(String(repeating: "b", count: 62)) }
    }

    /// The UTF-8 label forms the full build uses give what `prepending(labels:)` gives, errors
    /// and their offsets included.
    func testPrependingUTF8LabelsEqualsPrependingLabelArrays() throws {
        let base = dn("svc.ns.svc.cluster.local")
        XCTAssertEqual(try base.prepending(utf8Label: "web-0"), try base.prepending(labels: [ascii("web-0")[...]]))
        XCTAssertEqual(
            try base.prepending(utf8Label: "_http", then: "_tcp"), try base.prepending(labels: [ascii("_http")[...], ascii("_tcp")[...]]))
        XCTAssertEqual(try base.prepending(utf8Label: "_http", then: "_tcp").description, "_http._tcp.svc.ns.svc.cluster.local.")
        let long = String(repeating: "b", count: 64)
        assertThrows(.labelTooLong(at: 0)) { try base.prepending(utf8Label: long) }
        assertThrows(.labelTooLong(at: 6)) { try base.prepending(utf8Label: "_http", then: long) }
        assertThrows(.invalidPresentation("empty label")) { try base.prepending(utf8Label: "") }
        let nearlyFull = dn([String](repeating: String(repeating: "a", count: 63), count: 3).joined(separator: "."))
        assertThrows(.nameTooLong(at: 0)) { try nearlyFull.prepending(utf8Label: String(repeating: "b", count: 62)) }
        assertThrows(.nameTooLong(at: 0)) { try nearlyFull.prepending(utf8Label: "b", then: String(repeating: "c", count: 60)) }
        XCTAssertEqual(
            try base.prepending(utf8Labels: ["web", "ns", "svc"]), try base.prepending(labels: [ascii("web")[...], ascii("ns")[...], ascii("svc")[...]]))
        XCTAssertEqual(try base.prepending(utf8Labels: []), base)
        assertThrows(.labelTooLong(at: 4)) { try base.prepending(utf8Labels: ["web", long]) }
        assertThrows(.invalidPresentation("empty label")) { try base.prepending(utf8Labels: ["web", ""]) }
        assertThrows(.nameTooLong(at: 0)) { try nearlyFull.prepending(utf8Labels: ["b", String(repeating: "c", count: 60)]) }
    }

    func testIsSubdomainRespectsLabelBoundaries() {
        XCTAssertTrue(dn("foo.bar").isSubdomain(of: dn("bar")))
        XCTAssertTrue(dn("foo.bar").isSubdomain(of: dn("foo.bar")))
        XCTAssertTrue(dn("a.b.foo.bar").isSubdomain(of: dn("foo.bar")))
        XCTAssertTrue(dn("foo.bar").isSubdomain(of: .root))
        XCTAssertTrue(DomainName.root.isSubdomain(of: .root))
        XCTAssertTrue(dn("Foo.BAR").isSubdomain(of: dn("bar")))
        XCTAssertFalse(dn("foo.bar").isSubdomain(of: dn("oo.bar")))
        XCTAssertFalse(dn("bar").isSubdomain(of: dn("foo.bar")))
        XCTAssertFalse(dn("foo.baz").isSubdomain(of: dn("bar")))
        XCTAssertFalse(DomainName.root.isSubdomain(of: dn("bar")))
        // Byte suffix matches (…01 'c' 03 'bar' 00) but starts inside the label "x\001c".
        let tricky = dn("x\\001c.bar")
        XCTAssertEqual(Array(tricky.wire.suffix(7)), wire("c", "bar"))
        XCTAssertFalse(tricky.isSubdomain(of: dn("c.bar")))
    }

    // MARK: Canonical order (RFC 4034 §6.1)

    func testCanonicalOrderMatchesRFC4034Example() {
        let expected = [
            "example", "a.example", "yljkjljk.a.example", "Z.a.example", "zABC.a.EXAMPLE",
            "z.example", "\\001.z.example", "*.z.example", "\\200.z.example",
        ].map { dn($0) }
        var generator = SplitMix64(seed: 42)
        for _ in 0..<20 {
            let sorted = expected.shuffled(using: &generator).sorted()
            XCTAssertEqual(sorted.map(\.description), expected.map(\.description))
        }
        for (index, lower) in expected.enumerated() {
            for higher in expected[(index + 1)...] {
                XCTAssertTrue(lower < higher, "\(lower) < \(higher)")
                XCTAssertFalse(higher < lower, "\(higher) < \(lower)")
            }
        }
    }

    func testCanonicalOrderIsStrictAndCaseInsensitive() {
        XCTAssertFalse(dn("a.example") < dn("A.EXAMPLE"))
        XCTAssertFalse(dn("A.EXAMPLE") < dn("a.example"))
        XCTAssertFalse(DomainName.root < .root)
        XCTAssertTrue(DomainName.root < dn("com"))
        // Octets compare unsigned, and a shorter label sorts first.
        XCTAssertTrue(dn("a.com") < dn("\\200.com"))
        XCTAssertTrue(dn("ab.com") < dn("abc.com"))
        XCTAssertTrue(dn("zz.a.com") < dn("b.com"))
    }
}
