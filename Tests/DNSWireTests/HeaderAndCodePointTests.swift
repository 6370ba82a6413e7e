import DNSTestSupport
import DNSWire
import XCTest

final class HeaderAndCodePointTests: XCTestCase {
    func testFlagBitsMatchRFC1035Layout() {
        // QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4)  (RFC 1035 §4.1.1, RFC 4035 §3.2)
        let expected: [(DNSHeader.Flag, UInt16)] = [
            (.response, 1 << 15), (.authoritative, 1 << 10), (.truncated, 1 << 9),
            (.recursionDesired, 1 << 8), (.recursionAvailable, 1 << 7), (.authenticData, 1 << 5),
            (.checkingDisabled, 1 << 4),
        ]
        XCTAssertEqual(expected.count, DNSHeader.Flag.allCases.count)
        for (flag, bit) in expected {
            var header = DNSHeader()
            header[flag] = true
            XCTAssertEqual(header.flags, bit, "\(flag)")
            XCTAssertTrue(header[flag])
            header.flags = 0xFFFF
            header[flag] = false
            XCTAssertEqual(header.flags, 0xFFFF & ~bit)
        }
    }

    func testOpcodeAndRCodeFields() {
        var header = DNSHeader(flags: 0x8180)
        header.opcode = .update
        XCTAssertEqual(header.flags, 0x8180 | 0x2800)
        XCTAssertEqual(header.opcode, .update)
        header.opcode = .query
        XCTAssertEqual(header.flags, 0x8180)
        header.rcodeLow = 3
        XCTAssertEqual(header.flags, 0x8183)
        header.rcodeLow = 0x1F  // only the low four bits fit
        XCTAssertEqual(header.flags, 0x818F)
        XCTAssertEqual(DNSHeader(flags: 0x2000).opcode, .notify)
    }

    func testHeaderBitsSeenByLDNS() throws {
        var header = DNSHeader(id: 1)
        header[.response] = true
        header[.authoritative] = true
        header[.truncated] = true
        header[.recursionDesired] = true
        header.rcodeLow = 5
        let bytes = DNSMessage(header: header).encoded()
        XCTAssertEqual(Array(bytes[2...3]), [0x87, 0x05])
        XCTAssertEqual(try LDNSOracle.flags(bytes), ["qr", "aa", "tc", "rd"])
        XCTAssertEqual(try LDNSOracle.rcode(bytes), "REFUSED")
    }

    func testRecordTypeMnemonics() {
        XCTAssertEqual(RecordType.srv.rawValue, 33)
        XCTAssertEqual(RecordType.aaaa.description, "AAAA")
        XCTAssertEqual(RecordType(rawValue: 65280).description, "TYPE65280")
        XCTAssertEqual(RecordType(mnemonic: "srv"), .srv)
        XCTAssertEqual(RecordType(mnemonic: "TYPE99"), RecordType(rawValue: 99))
        XCTAssertEqual(RecordType(mnemonic: "type1"), .a)
        XCTAssertNil(RecordType(mnemonic: "BOGUS"))
        XCTAssertNil(RecordType(mnemonic: "TYPE70000"))
        XCTAssertEqual(RecordClass.in.description, "IN")
        XCTAssertEqual(RecordClass(rawValue: 42).description, "CLASS42")
        XCTAssertEqual(ResponseCode.nxDomain.description, "NXDOMAIN")
        XCTAssertEqual(ResponseCode(rawValue: 23).description, "RCODE23")
    }
}
