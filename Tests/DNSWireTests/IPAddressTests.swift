#if canImport(Glibc)
import Glibc
#endif
import DNSWire
import DNSTestSupport
import XCTest

final class IPAddressTests: XCTestCase {
    func testParsesAndPrintsIPv4() {
        XCTAssertEqual(IPAddress("10.1.2.3"), .v4(0x0A01_0203))
        XCTAssertEqual(IPAddress("255.255.255.255"), .v4(0xFFFF_FFFF))
        XCTAssertEqual(IPAddress("0.0.0.0"), .v4(0))
        XCTAssertEqual(IPAddress.v4(0xC000_0201).description, "192.0.2.1")
        XCTAssertTrue(address("10.1.2.3").isIPv4)
    }

    func testParsesAndPrintsIPv6Canonically() {
        XCTAssertEqual(IPAddress("fd00::1"), .v6(0xFD00_0000_0000_0000, 1))
        XCTAssertEqual(IPAddress("::"), .v6(0, 0))
        XCTAssertEqual(IPAddress("::1"), .v6(0, 1))
        XCTAssertFalse(address("::1").isIPv4)
        // RFC 5952: lower case, longest zero run compressed, no leading zeros.
        XCTAssertEqual(address("2001:0DB8:0000:0000:0000:0000:0000:0001").description, "2001:db8::1")
        XCTAssertEqual(address("2001:db8:0:0:1:0:0:1").description, "2001:db8::1:0:0:1")
        XCTAssertEqual(address("fd00:10:96:0:0:0:0:a").description, "fd00:10:96::a")
        XCTAssertEqual(IPAddress.v6(0x2001_0DB8_0000_0001, 0x0001_0001_0001_0001).description, "2001:db8:0:1:1:1:1:1")
    }

    func testRejectsMalformedText() {
        for text in ["", "1.2.3", "256.1.1.1", "1.2.3.4.5", "10.1.2.3 ", " 10.1.2.3", "fd00:::1", "1::2::3",
                     "[::1]", "fe80::1%eth0", "10-1-2-3", "example.com", "12345::"] {
            XCTAssertNil(IPAddress(text), text)
        }
    }

    func testRejectsTextWithEmbeddedNUL() {
        // inet_pton stops at the first NUL of the C string; the Swift string goes on.
        XCTAssertNil(IPAddress("10.1.2.3\u{0}"))
        XCTAssertNil(IPAddress("10.1.2.3\u{0}.evil"))
        XCTAssertNil(IPAddress("fd00::1\u{0}x"))
    }

    func testDashedForm() {
        XCTAssertEqual(address("10.1.2.3").dashed, "10-1-2-3")
        XCTAssertEqual(address("fd00::1").dashed, "fd00--1")
        XCTAssertEqual(address("2001:DB8::A:0:1").dashed, "2001-db8--a-0-1")
        XCTAssertEqual(address("::").dashed, "--")
    }

    /// The text is written by hand for IPv4 and into the String's storage for IPv6: both must
    /// read as inet_ntop writes them, for seeded random addresses and the edges of every byte.
    func testTextAndDashedFormsMatchInetNtop() {
        func ntop(_ address: IPAddress) -> String {
            var text = [CChar](repeating: 0, count: 64)
            _ = address.withRDataBytes { inet_ntop(address.isIPv4 ? AF_INET : AF_INET6, $0.baseAddress, &text, 64) }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var random = SplitMix64(seed: 0xD0_77ED)
        var addresses: [IPAddress] = [.v4(0), .v4(0xFFFF_FFFF), .v4(0x0A09_6364), .v4(0x6463_0A09), .v6(0, 0), .v6(.max, .max)]
        for _ in 0..<5_000 {
            let word = random.next()
            addresses.append(.v4(UInt32(truncatingIfNeeded: word)))
            // Zero runs of every length, so that "::" lands everywhere.
            let mask = random.next()
            addresses.append(.v6(word & mask, random.next() & (mask >> 7)))
        }
        for address in addresses {
            let expected = ntop(address)
            XCTAssertEqual(address.description, expected)
            XCTAssertEqual(address.dashed, String(expected.map { $0 == "." || $0 == ":" ? "-" : $0 }))
            XCTAssertEqual(IPAddress(expected), address)
        }
    }

    func testIPv4ReverseName() throws {
        XCTAssertEqual(address("10.1.2.3").reverseName, "3.2.1.10.in-addr.arpa")
        XCTAssertEqual(address("192.0.2.255").reverseName, "255.2.0.192.in-addr.arpa")
        XCTAssertEqual(try DomainName(address("10.96.0.10").reverseName).labelCount, 6)
    }

    func testIPv6ReverseNameUsesNibbles() throws {
        // RFC 3596 §2.5 example.
        XCTAssertEqual(
            address("4321:0:1:2:3:4:567:89ab").reverseName,
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa")
        let reverse = try DomainName(address("fd00::1").reverseName)
        XCTAssertEqual(reverse.labelCount, 34)
        XCTAssertEqual(reverse.description, "1." + String(repeating: "0.", count: 29) + "d.f.ip6.arpa.")
    }

    func testBytesRoundTrip() {
        XCTAssertEqual(address("192.0.2.1").bytes, [192, 0, 2, 1])
        XCTAssertEqual(address("2001:db8::ff00:42:8329").bytes,
                       [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0xFF, 0x00, 0x00, 0x42, 0x83, 0x29])
        XCTAssertEqual(IPAddress(bytes: [192, 0, 2, 1]), address("192.0.2.1"))
        XCTAssertEqual(IPAddress(bytes: [UInt8](1...16)), .v6(0x0102_0304_0506_0708, 0x090A_0B0C_0D0E_0F10))
        XCTAssertEqual(IPAddress(bytes: ArraySlice([UInt8](0...20))[3..<7]), .v4(0x0304_0506))
        for length in [0, 1, 3, 5, 8, 15, 17, 32] {
            XCTAssertNil(IPAddress(bytes: [UInt8](repeating: 1, count: length)), "\(length)")
        }
        var generator = SplitMix64(seed: 99)
        for _ in 0..<100 {
            let v6 = IPAddress.v6(UInt64.random(in: 0...UInt64.max, using: &generator), UInt64.random(in: 0...UInt64.max, using: &generator))
            XCTAssertEqual(IPAddress(bytes: v6.bytes), v6)
            XCTAssertEqual(IPAddress(v6.description), v6)
            let v4 = IPAddress.v4(UInt32.random(in: 0...UInt32.max, using: &generator))
            XCTAssertEqual(IPAddress(bytes: v4.bytes), v4)
            XCTAssertEqual(IPAddress(v4.description), v4)
        }
    }

    func testOrderingIsNumericWithV4First() {
        XCTAssertLessThan(address("10.0.0.2"), address("10.0.0.10"))
        XCTAssertLessThan(address("9.255.255.255"), address("10.0.0.0"))
        XCTAssertLessThan(address("255.255.255.255"), address("::"))
        XCTAssertLessThan(address("::ffff"), address("1::"))
        XCTAssertLessThan(address("fd00::1"), address("fd00::1:0"))
        XCTAssertFalse(address("fd00::1") < address("fd00::1"))
    }

    /// The wire-built name is the text one, for every shape of address.
    func testReverseDomainNameMatchesTheTextForm() throws {
        var generator = SplitMix64(seed: 7)
        var samples = ["0.0.0.0", "10.1.2.3", "192.0.2.255", "100.9.99.199", "::", "fd00::1", "4321:0:1:2:3:4:567:89ab"]
        for _ in 0..<200 {
            let value = generator.next()
            samples.append("\(address("\(value & 0xFF).\(value >> 8 & 0xFF).\(value >> 16 & 0xFF).\(value >> 24 & 0xFF)"))")
            samples.append("\(IPAddress.v6(value, generator.next()))")
        }
        for text in samples {
            let ip = address(text)
            XCTAssertEqual(ip.reverseDomainName, try DomainName(ip.reverseName), text)
        }
    }

    /// A reverse name reads back to its address, in any case; partial and malformed names
    /// (a reverse zone's upper levels, leading zeros, octets over 255, long nibbles) do not.
    func testReverseDomainNameReadsBack() throws {
        var generator = SplitMix64(seed: 11)
        var samples = ["0.0.0.0", "10.1.2.3", "255.255.255.255", "::", "fd00::1", "64:ff9b::c000:201"].map { address($0) }
        for _ in 0..<200 {
            samples.append(.v4(UInt32(truncatingIfNeeded: generator.next())))
            samples.append(.v6(generator.next(), generator.next()))
        }
        for ip in samples {
            XCTAssertEqual(IPAddress(reverseDomainName: ip.reverseDomainName), ip, "\(ip)")
            XCTAssertEqual(IPAddress(reverseDomainName: try DomainName(ip.reverseName.uppercased())), ip, "\(ip) upper-case")
        }
        for name in ["2.0.10.in-addr.arpa", "4.3.2.1.0.in-addr.arpa", "01.2.0.10.in-addr.arpa", "256.2.0.10.in-addr.arpa",
                     "a.2.0.10.in-addr.arpa", "in-addr.arpa", "1.2.0.10.example.arpa", "1.2.0.10.in-addr.example",
                     "0.0.ip6.arpa", String(repeating: "0.", count: 31) + "10.ip6.arpa", String(repeating: "g.", count: 32) + "ip6.arpa"] {
            XCTAssertNil(IPAddress(reverseDomainName: try DomainName(name)), name)
        }
    }
}
