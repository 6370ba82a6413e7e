import DNSWire
import XCTest

final class QueryParserTests: XCTestCase {
    private let question = wire("Www", "EXAMPLE", "com") + [0x00, 0x1C, 0x00, 0x01]

    private func query(id: UInt16 = 0x4242, flags: UInt16 = 0x0100, qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0, body: [UInt8]? = nil) -> [UInt8] {
        headerBytes(id: id, flags: flags, qd: qd, an: an, ns: ns, ar: ar) + (body ?? question)
    }

    /// OPT pseudo-record (RFC 6891 §6.1.2) written by hand.
    private func opt(payload: UInt16 = 1232, extendedRCode: UInt8 = 0, version: UInt8 = 0, doBit: Bool = false, owner: [UInt8] = [0], rdata: [UInt8] = []) -> [UInt8] {
        owner + [0x00, 0x29] + be16(payload) + [extendedRCode, version, doBit ? 0x80 : 0x00, 0x00] + be16(UInt16(rdata.count)) + rdata
    }

    private func expectQuery(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> (QueryView, [UInt8])? {
        let (result, buffer) = parseQuery(bytes)
        guard case .query(let view) = result else {
            XCTFail("expected a query, got \(result)", file: file, line: line)
            return nil
        }
        return (view, buffer)
    }

    /// `flagMask`: the request flags handed back for the reply (all of them, or for NOTIMP
    /// the opcode alone).
    private func expectReject(
        _ bytes: [UInt8], _ code: ResponseCode, flagMask: UInt16 = 0xFFFF, file: StaticString = #filePath, line: UInt = #line
    ) {
        let (result, _) = parseQuery(bytes)
        guard case .reject(let actual, let id, let flags) = result else {
            return XCTFail("expected reject \(code), got \(result)", file: file, line: line)
        }
        XCTAssertEqual(actual, code, file: file, line: line)
        XCTAssertEqual(id, UInt16(bytes[0]) << 8 | UInt16(bytes[1]), "the ID is echoed", file: file, line: line)
        XCTAssertEqual(flags, (UInt16(bytes[2]) << 8 | UInt16(bytes[3])) & flagMask, file: file, line: line)
    }

    private func expectDrop(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        guard case .drop = parseQuery(bytes).result else { return XCTFail("expected drop", file: file, line: line) }
    }

    // MARK: Accepted queries

    func testParsesPlainQueryAndLowercasesTheName() throws {
        guard let (view, buffer) = expectQuery(query()) else { return }
        XCTAssertEqual(view.id, 0x4242)
        XCTAssertEqual(view.flags, 0x0100)
        XCTAssertEqual(view.type, .aaaa)
        XCTAssertEqual(view.recordClass, .in)
        XCTAssertEqual(view.nameLength, 17)
        XCTAssertEqual(view.questionEnd, 12 + 17 + 4)
        XCTAssertNil(view.edns)
        XCTAssertEqual(view.opcode, .query)
        XCTAssertTrue(view.recursionDesired)
        XCTAssertFalse(view.checkingDisabled)
        XCTAssertEqual(Array(buffer.prefix(view.nameLength)), wire("www", "example", "com"))
    }

    func testLowercasingTouchesOnlyASCIILetters() {
        // Label bytes: A Z @ [ ` { 0 - \xC3 \xDA
        let label: [UInt8] = [0x41, 0x5A, 0x40, 0x5B, 0x60, 0x7B, 0x30, 0x2D, 0xC3, 0xDA]
        let body = [UInt8(label.count)] + label + [3] + ascii("COM") + [0, 0, 1, 0, 1]
        guard let (view, buffer) = expectQuery(query(body: body)) else { return }
        XCTAssertEqual(Array(buffer.prefix(view.nameLength)),
                       [10, 0x61, 0x7A, 0x40, 0x5B, 0x60, 0x7B, 0x30, 0x2D, 0xC3, 0xDA, 3] + ascii("com") + [0])
    }

    func testRootQuestionAndFlags() {
        guard let (view, buffer) = expectQuery(query(flags: 0x0010, body: [0, 0, 2, 0, 1])) else { return }
        XCTAssertEqual(view.nameLength, 1)
        XCTAssertEqual(buffer[0], 0)
        XCTAssertEqual(view.type, .ns)
        XCTAssertFalse(view.recursionDesired)
        XCTAssertTrue(view.checkingDisabled)
    }

    func testMaximumNameFitsTheBuffer() {
        let label = [63] + [UInt8](repeating: 0x41, count: 63)
        let name255 = label + label + label + [61] + [UInt8](repeating: 0x42, count: 61) + [0]
        XCTAssertEqual(name255.count, 255)
        guard let (view, buffer) = expectQuery(query(body: name255 + [0, 1, 0, 1])) else { return }
        XCTAssertEqual(view.nameLength, 255)
        XCTAssertEqual(buffer, name255.map(DomainName.lowercase))
        let name256 = label + label + label + [62] + [UInt8](repeating: 0x42, count: 62) + [0]
        expectReject(query(body: name256 + [0, 1, 0, 1]), .formErr)
    }

    // MARK: Header screening

    func testShortPacketsAndResponsesAreDropped() {
        for length in 0..<12 { expectDrop(Array(query().prefix(length))) }
        expectDrop(query(flags: 0x8100))
        expectDrop(query(flags: 0x8000 | 0x2000))  // a response with another opcode is still dropped
    }

    func testOtherOpcodesAreNotImplemented() {
        for opcode: UInt16 in [1, 2, 4, 5, 15] {
            expectReject(query(flags: opcode << 11 | 0x0100), .notImp, flagMask: 0x7800)
        }
    }

    func testQuestionCountMustBeOne() {
        expectReject(query(qd: 0, body: []), .formErr)
        expectReject(query(qd: 0), .formErr)
        expectReject(query(qd: 2, body: question + question), .formErr)
    }

    func testCompressedOrBadQuestionNameIsFormErr() {
        expectReject(query(body: [0xC0, 0x0C, 0, 1, 0, 1]), .formErr)
        expectReject(query(body: [1, 0x61, 0xC0, 0x0C, 0, 1, 0, 1]), .formErr)
        expectReject(query(body: [0x40] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]), .formErr)
        expectReject(query(body: [1, 0x61, 0x80, 0, 0, 1, 0, 1]), .formErr)
        expectReject(query(body: wire("a") + [0, 1, 0]), .formErr)
    }

    // MARK: EDNS (RFC 6891)

    func testDetectsOPT() {
        let bytes = query(ar: 1, body: question + opt(payload: 4096, doBit: true))
        guard let (view, _) = expectQuery(bytes) else { return }
        XCTAssertEqual(view.edns?.udpPayloadSize, 4096)
        XCTAssertEqual(view.edns?.version, 0)
        XCTAssertEqual(view.edns?.dnssecOK, true)
        XCTAssertEqual(view.questionEnd, 12 + question.count)
    }

    func testReportsVersionAndClearDOBit() {
        let bytes = query(ar: 1, body: question + opt(payload: 512, version: 1, rdata: [0, 10, 0, 2, 0xAB, 0xCD]))
        guard let (view, _) = expectQuery(bytes) else { return }
        XCTAssertEqual(view.edns?.udpPayloadSize, 512)
        XCTAssertEqual(view.edns?.version, 1)
        XCTAssertEqual(view.edns?.dnssecOK, false)
    }

    func testFindsOPTAfterOtherAdditionalRecords() {
        let other = wire("k") + [0x00, 0xFA, 0x00, 0xFF, 0, 0, 0, 0, 0x00, 0x02, 0xAA, 0xBB]
        let bytes = query(ar: 2, body: question + opt(payload: 1400) + other)
        guard let (view, _) = expectQuery(bytes) else { return }
        XCTAssertEqual(view.edns?.udpPayloadSize, 1400)
        let reversed = query(ar: 2, body: question + [0xC0, 0x0C] + Array(other.dropFirst(3)) + opt(payload: 1400))
        XCTAssertEqual(expectQuery(reversed)?.0.edns?.udpPayloadSize, 1400)
    }

    func testTwoOPTRecordsAreFormErr() {
        expectReject(query(ar: 2, body: question + opt() + opt()), .formErr)
    }

    func testOPTWithNonRootOwnerIsFormErr() {
        expectReject(query(ar: 1, body: question + opt(owner: wire("a"))), .formErr)
        expectReject(query(ar: 1, body: question + opt(owner: [0xC0, 0x0C])), .formErr)
    }

    func testOPTOutsideTheAdditionalSectionIsFormErr() {
        expectReject(query(an: 1, body: question + opt()), .formErr)
        expectReject(query(ns: 1, body: question + opt()), .formErr)
    }

    func testMissingOrOverlongAdditionalRecordsAreFormErr() {
        expectReject(query(ar: 1), .formErr)
        expectReject(query(ar: 2, body: question + opt()), .formErr)
        var overlong = query(ar: 1, body: question + opt(rdata: [1, 2, 3, 4]))
        overlong[overlong.count - 5] = 5  // RDLENGTH 5 with only 4 bytes present
        expectReject(overlong, .formErr)
    }

    func testAgreesWithTheFullDecoderOnAnEncodedQuery() throws {
        let message = DNSMessage(
            header: DNSHeader(id: 0x0A0B, flags: 0x0100),
            questions: [DNSQuestion(name: dn("MiXeD.Case.Example"), type: .srv)],
            edns: EDNSRecord(udpPayloadSize: 1232, dnssecOK: true))
        let bytes = message.encoded()
        guard let (view, buffer) = expectQuery(bytes) else { return }
        let decoded = try DNSMessage(decoding: bytes)
        XCTAssertEqual(view.id, decoded.header.id)
        XCTAssertEqual(view.type, decoded.questions.first?.type)
        XCTAssertEqual(Array(buffer.prefix(view.nameLength)), decoded.questions.first?.name.lowercasedWire)
        XCTAssertEqual(view.edns?.udpPayloadSize, decoded.edns?.udpPayloadSize)
        XCTAssertEqual(view.edns?.dnssecOK, decoded.edns?.dnssecOK)
    }
}
