import DNSWire
import XCTest

final class WireReaderTests: XCTestCase {
    // MARK: Integers

    func testReadsBigEndianIntegersAndReportsTruncation() throws {
        var reader = WireReader(bytes: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])
        XCTAssertEqual(try reader.readUInt8(), 0x01)
        XCTAssertEqual(try reader.readUInt16(), 0x0203)
        XCTAssertEqual(try reader.readUInt32(), 0x0405_0607)
        XCTAssertEqual(reader.remaining, 0)
        assertThrows(.truncated(at: 7)) { try reader.readUInt8() }

        var short = WireReader(bytes: [0xAA, 0xBB, 0xCC], offset: 1)
        assertThrows(.truncated(at: 1)) { try short.readUInt32() }
        XCTAssertEqual(short.offset, 1, "a failed read must not move the cursor")
        XCTAssertEqual(try short.readUInt16(), 0xBBCC)
        assertThrows(.truncated(at: 3)) { try short.readUInt16() }
    }

    func testReadBytes() throws {
        var reader = WireReader(bytes: [1, 2, 3, 4])
        XCTAssertEqual(try reader.readBytes(0), [])
        XCTAssertEqual(try reader.readBytes(3), [1, 2, 3])
        assertThrows(.truncated(at: 3)) { try reader.readBytes(2) }
        assertThrows(.truncated(at: 3)) { try reader.readBytes(-1) }
        XCTAssertEqual(try reader.readBytes(1), [4])
    }

    // MARK: Names (RFC 1035 §4.1.4)

    /// 12 filler bytes standing in for a header, so offsets read like real messages.
    private let pad = [UInt8](repeating: 0, count: 12)

    func testReadsUncompressedNameAndAdvances() throws {
        var reader = WireReader(bytes: pad + wire("Www", "example") + [0xFF], offset: 12)
        let decoded = try reader.readName()
        XCTAssertEqual(decoded.wire, wire("Www", "example"), "spelling is preserved")
        XCTAssertEqual(reader.offset, 12 + 13)
    }

    func testFollowsPointersAndResumesAfterTheFirstOne() throws {
        // 12: example.com.   25: www + ptr→12   31: mail + ptr→25 (pointer to a name ending in a pointer)
        let bytes = pad + wire("example", "com") + [3] + ascii("www") + [0xC0, 12] + [4] + ascii("mail") + [0xC0, 25, 0x99]
        var reader = WireReader(bytes: bytes, offset: 31)
        XCTAssertEqual(try reader.readName().wire, wire("mail", "www", "example", "com"))
        XCTAssertEqual(reader.offset, 38, "resume right after the first pointer")
        var direct = WireReader(bytes: bytes, offset: 25)
        XCTAssertEqual(try direct.readName().wire, wire("www", "example", "com"))
        XCTAssertEqual(direct.offset, 31)
    }

    func testPointerToRoot() throws {
        var reader = WireReader(bytes: pad + [0, 0xC0, 12], offset: 13)
        XCTAssertEqual(try reader.readName(), .root)
        XCTAssertEqual(reader.offset, 15)
    }

    func testPointerOffsetUsesAllFourteenBits() throws {
        // A name stored at 0x0123 reached through C1 23.
        var bytes = [UInt8](repeating: 0, count: 0x123) + wire("far")
        let start = bytes.count
        bytes += [0xC1, 0x23]
        var reader = WireReader(bytes: bytes, offset: start)
        XCTAssertEqual(try reader.readName().description, "far.")
    }

    /// A chain of backward pointers is legal but pointless past a name's 127 labels: 128 hops
    /// are followed, more are refused (issue #11 item 9: 8,000 hops cost 78 ms per query).
    func testLongPointerChainsAreRefused() throws {
        func chain(_ hops: Int) -> (bytes: [UInt8], start: Int) {
            var bytes = pad + wire("end")
            var previous = 12
            for _ in 0..<hops {
                let here = bytes.count
                bytes += [0xC0 | UInt8(previous >> 8), UInt8(truncatingIfNeeded: previous)]
                previous = here
            }
            return (bytes, previous)
        }
        let allowed = chain(WireReader.maxPointerJumps)
        var reader = WireReader(bytes: allowed.bytes, offset: allowed.start)
        XCTAssertEqual(try reader.readName().description, "end.")
        let tooLong = chain(WireReader.maxPointerJumps + 1)
        var refused = WireReader(bytes: tooLong.bytes, offset: tooLong.start)
        XCTAssertThrowsError(try refused.readName())
    }

    func testSelfPointerIsALoop() {
        var reader = WireReader(bytes: pad + [0xC0, 12], offset: 12)
        assertThrows(.pointerLoop(at: 12)) { try reader.readName() }
    }

    func testPointersPointingAtEachOtherAreALoop() {
        // 12: C0 14, 14: C0 12. Starting at either must fail.
        let bytes = pad + [0xC0, 14, 0xC0, 12]
        var first = WireReader(bytes: bytes, offset: 12)
        assertThrows(.pointerLoop(at: 12)) { try first.readName() }
        var second = WireReader(bytes: bytes, offset: 14)
        assertThrows(.pointerLoop(at: 12)) { try second.readName() }
    }

    func testLabelThenPointerBackToItselfIsALoop() {
        // 12: "a" then pointer to 12: would expand forever.
        var reader = WireReader(bytes: pad + [1, 0x61, 0xC0, 12], offset: 12)
        assertThrows(.pointerLoop(at: 14)) { try reader.readName() }
    }

    func testForwardPointerIsRejected() {
        var reader = WireReader(bytes: pad + [0xC0, 14] + wire("a"), offset: 12)
        assertThrows(.pointerLoop(at: 12)) { try reader.readName() }
    }

    func testReservedLabelTypesAreRejected() {
        for typeByte: UInt8 in [0x40, 0x41, 0x7F, 0x80, 0xBF] {
            var reader = WireReader(bytes: pad + [1, 0x61, typeByte, 0x61, 0], offset: 12)
            assertThrows(.badLabelType(at: 14), "\(typeByte)") { try reader.readName() }
        }
    }

    func testSixtyFourByteLabelLengthIsAReservedLabelType() {
        // On the wire a length of 64 is 0b01_000000: label type 01 (RFC 6891 §5), so a
        // 64-byte label cannot be expressed and is refused as a bad label type.
        var reader = WireReader(bytes: pad + [64] + [UInt8](repeating: 0x61, count: 64) + [0], offset: 12)
        assertThrows(.badLabelType(at: 12)) { try reader.readName() }
        var ok = WireReader(bytes: pad + [63] + [UInt8](repeating: 0x61, count: 63) + [0], offset: 12)
        XCTAssertEqual(try ok.readName().wire.count, 65)
    }

    func testTruncatedNames() {
        let cases: [[UInt8]] = [[], [3, 0x61, 0x62], [3, 0x61, 0x62, 0x63], [0xC0]]
        for (index, tail) in cases.enumerated() {
            var reader = WireReader(bytes: pad + tail, offset: 12)
            assertThrows(matching: isTruncated, "case \(index)") { try reader.readName() }
        }
    }

    /// Labels of 63 bytes filling `total` wire bytes including the root label.
    private func longLabels(total: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var left = total - 1
        while left > 0 {
            let length = min(63, left - 1)
            bytes += [UInt8(length)] + [UInt8](repeating: 0x78, count: length)
            left -= length + 1
        }
        return bytes + [0]
    }

    func testNameOf255BytesIsReadAnd256Rejected() throws {
        let max = longLabels(total: 255), over = longLabels(total: 256)
        XCTAssertEqual(max.count, 255)
        XCTAssertEqual(over.count, 256)
        var reader = WireReader(bytes: pad + max, offset: 12)
        XCTAssertEqual(try reader.readName().wire, max)
        var bad = WireReader(bytes: pad + over, offset: 12)
        assertThrows(matching: { if case .nameTooLong = $0 { true } else { false } }) { try bad.readName() }
    }

    func testCompressionCannotExpandBeyond255Bytes() throws {
        // 12: a 250-byte name (…, ends in root). Then names prepend labels via a pointer to it.
        let base = longLabels(total: 250)
        let baseStart = 12
        var bytes = pad + base
        let fits = bytes.count
        bytes += [4] + ascii("abcd") + pointer(to: baseStart)  // 5 + 250 = 255: fine
        let tooLong = bytes.count
        bytes += [5] + ascii("abcde") + pointer(to: baseStart)  // 6 + 250 = 256
        let chained = bytes.count
        bytes += [1] + ascii("z") + pointer(to: tooLong)  // via a second pointer: 2 + 256
        var reader = WireReader(bytes: bytes, offset: fits)
        XCTAssertEqual(try reader.readName().wire.count, 255)
        var over = WireReader(bytes: bytes, offset: tooLong)
        assertThrows(matching: { if case .nameTooLong = $0 { true } else { false } }) { try over.readName() }
        var overChained = WireReader(bytes: bytes, offset: chained)
        assertThrows(matching: { if case .nameTooLong = $0 { true } else { false } }) { try overChained.readName() }
        // Also when every label is reached through its own pointer (a chain of 1-label names).
        var chain = pad + [1, 0x61, 0]
        var previous = 12
        for _ in 0..<127 {
            let here = chain.count
            chain += [1, 0x62] + pointer(to: previous)
            previous = here
        }
        // 127 × 2 + 2 + 1 = 257 bytes when expanded
        var deep = WireReader(bytes: chain, offset: previous)
        assertThrows(matching: { if case .nameTooLong = $0 { true } else { false } }) { try deep.readName() }
    }

    // MARK: Records and rdata lengths

    private func record(type: RecordType, rdata: [UInt8], rdlength: Int? = nil) -> [UInt8] {
        wire("x") + be16(type.rawValue) + be16(1) + be32(300) + be16(UInt16(rdlength ?? rdata.count)) + rdata
    }

    func testReadsRecordFields() throws {
        var reader = WireReader(bytes: record(type: .a, rdata: [192, 0, 2, 1]))
        let decoded = try reader.readRecord()
        XCTAssertEqual(decoded, ResourceRecord(name: dn("x"), type: .a, recordClass: .in, ttl: 300, data: .a(address("192.0.2.1"))))
        XCTAssertEqual(reader.remaining, 0)
    }

    func testAddressRDataOfWrongLengthIsBadRData() {
        let rdataStart = 3 + 10
        for (type, length) in [(RecordType.a, 3), (.a, 5), (.a, 16), (.aaaa, 4), (.aaaa, 15), (.aaaa, 17)] {
            var reader = WireReader(bytes: record(type: type, rdata: [UInt8](repeating: 1, count: length)))
            assertThrows(.badRData(type: type, at: rdataStart), "\(type) \(length)") { try reader.readRecord() }
        }
    }

    func testNameRDataShorterOrLongerThanRDLengthIsBadRData() {
        let target = wire("target")  // 8 bytes
        for type in [RecordType.cname, .ns, .ptr] {
            // RDLENGTH says 9 but the name ends after 8; the extra byte exists in the packet.
            var longer = WireReader(bytes: record(type: type, rdata: target + [0], rdlength: 9))
            assertThrows(.badRData(type: type, at: 13), "\(type)") { try longer.readRecord() }
            // RDLENGTH says 4 but the name runs on; the following bytes exist in the packet.
            var shorter = WireReader(bytes: record(type: type, rdata: target, rdlength: 4) + [0, 0, 0, 0])
            assertThrows(.badRData(type: type, at: 13), "\(type)") { try shorter.readRecord() }
        }
    }

    func testFixedRDataWithExtraBytesIsBadRData() {
        let srv = be16(1) + be16(2) + be16(3) + wire("t") + [0xAA]
        var reader = WireReader(bytes: record(type: .srv, rdata: srv))
        assertThrows(.badRData(type: .srv, at: 13)) { try reader.readRecord() }
        let soa = wire("m") + wire("r") + [UInt8](repeating: 0, count: 20) + [0]
        var soaReader = WireReader(bytes: record(type: .soa, rdata: soa))
        assertThrows(.badRData(type: .soa, at: 13)) { try soaReader.readRecord() }
        let mx = be16(10) + wire("mx") + [0]
        var mxReader = WireReader(bytes: record(type: .mx, rdata: mx))
        assertThrows(.badRData(type: .mx, at: 13)) { try mxReader.readRecord() }
    }

    func testTXTStringRunningPastRDataIsBadRData() {
        // One string claims 5 bytes but RDLENGTH is 4; the packet continues with another record.
        var reader = WireReader(bytes: record(type: .txt, rdata: [5, 0x61, 0x62, 0x63], rdlength: 4) + [0x64, 0x65, 0x66])
        assertThrows(.badRData(type: .txt, at: 13)) { try reader.readRecord() }
    }

    func testRDLengthBeyondThePacketIsTruncation() {
        var reader = WireReader(bytes: record(type: .a, rdata: [1, 2, 3], rdlength: 4))
        assertThrows(.truncated(at: 13)) { try reader.readRecord() }
    }

    func testEmptyTXTAndUnknownTypesSurvive() throws {
        var txt = WireReader(bytes: record(type: .txt, rdata: [0]))
        XCTAssertEqual(try txt.readRecord().data, .txt([[]]))
        let private65280 = RecordType(rawValue: 65280)
        var unknown = WireReader(bytes: record(type: private65280, rdata: [0xC0, 0x0C, 0xFF]))
        let decoded = try unknown.readRecord()
        XCTAssertEqual(decoded.type, private65280)
        XCTAssertEqual(decoded.data, .unknown([0xC0, 0x0C, 0xFF]), "unknown rdata is opaque (RFC 3597)")
    }

    func testQuestion() throws {
        var reader = WireReader(bytes: wire("q") + be16(28) + be16(3))
        XCTAssertEqual(try reader.readQuestion(), DNSQuestion(name: dn("q"), type: .aaaa, recordClass: .chaos))
        var short = WireReader(bytes: wire("q") + be16(28) + [0])
        assertThrows(.truncated(at: 5)) { try short.readQuestion() }
    }
}
