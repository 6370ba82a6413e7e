@testable import ClusterRegistry
import DNSTestSupport
import XCTest

/// The JSON reader the API source uses (RFC 8259), read the way `Resolver.basic` reads YAML.
final class JSONDocumentTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONDocument.parse(Array(text.utf8)).root
    }

    func testScalarsAreTextAsWritten() throws {
        let object = try XCTUnwrap(parse(#"{"s":"80","n":80,"f":-1.5e+3,"t":true,"z":null,"q":"null","e":""}"#).object)
        XCTAssertEqual(object.field("s")?.scalarText, "80")
        XCTAssertEqual(object.field("s")?.isString, true)
        XCTAssertEqual(object.field("n")?.scalarText, "80")
        XCTAssertEqual(object.field("n")?.string, nil, "a number is not a string")
        XCTAssertEqual(object.field("f")?.scalarText, "-1.5e+3")
        XCTAssertEqual(object.field("t")?.scalarText, "true")
        XCTAssertNil(object.field("z"), "null counts as absent")
        XCTAssertEqual(object["z"]?.isNull, true)
        XCTAssertEqual(object.field("q")?.scalarText, "null", "a quoted null is a string")
        XCTAssertEqual(object.field("e")?.scalarText, "")
        XCTAssertNil(object.field("missing"))
        XCTAssertEqual(object.count, 7)
        XCTAssertEqual(object.pairs.map { $0.key.scalarText ?? "?" }, ["s", "n", "f", "t", "z", "q", "e"])
    }

    func testNestedContainersAreSkippedAsWholes() throws {
        let object = try XCTUnwrap(parse(#"{"a":{"b":[1,{"c":[]},[[]]],"d":{}},"e":[true,false,null],"f":"x"}"#).object)
        XCTAssertEqual(object.field("f")?.scalarText, "x")
        let list = try XCTUnwrap(object.field("e")?.sequence)
        XCTAssertEqual(list.count, 3)
        XCTAssertEqual(list.map { $0.shownValue }, ["\"true\"", "\"false\"", "null"])
        let inner = try XCTUnwrap(object.field("a")?.mapping?.field("b")?.sequence)
        XCTAssertEqual(inner.map(\.shownValue), ["\"1\"", "a mapping", "a list"])
        XCTAssertEqual(object.field("a")?.mapping?.field("d")?.mapping?.count, 0)
    }

    func testEscapesAndUnicode() throws {
        let object = try XCTUnwrap(parse(#"{"k\"ey":"a\/b\\c\n\t\u00e9\ud83d\ude00\ud800x","plain":"grüße"}"#).object)
        XCTAssertEqual(object.field("k\"ey")?.scalarText, "a/b\\c\n\t\u{e9}\u{1F600}\u{FFFD}x")
        XCTAssertEqual(object.field("plain")?.scalarText, "grüße")
    }

    /// Strings are scanned eight bytes at a time: whichever lane of a word a quote, an escape,
    /// a control character or a non-ASCII byte falls in, it must be seen.
    func testEveryLaneOfAStringIsLookedAt() throws {
        let filler = Array(repeating: UInt8(ascii: "a"), count: 24)
        for offset in 0..<17 {
            func string(_ special: [UInt8]) -> [UInt8] {
                [UInt8(ascii: "\"")] + filler.prefix(offset) + special + filler.prefix(20 - offset) + [UInt8(ascii: "\"")]
            }
            let expectedPrefix = String(repeating: "a", count: offset)
            let escaped = try JSONDocument.parse(string(Array(#"\n"#.utf8))).root.scalarText
            XCTAssertEqual(escaped, expectedPrefix + "\n" + String(repeating: "a", count: 20 - offset), "offset \(offset)")
            let accented = try JSONDocument.parse(string(Array("é".utf8))).root.scalarText
            XCTAssertEqual(accented, expectedPrefix + "é" + String(repeating: "a", count: 20 - offset), "offset \(offset)")
            XCTAssertThrowsError(try JSONDocument.parse(string([0x01])), "control character at \(offset)") { error in
                XCTAssertEqual((error as? JSONSyntaxError)?.offset, 1 + offset)
            }
            XCTAssertThrowsError(try JSONDocument.parse(string([0x1F])), "control character at \(offset)")
            XCTAssertThrowsError(try JSONDocument.parse(string([0xFF])), "invalid UTF-8 at \(offset)")
            // A quote inside ends the string early: what follows is not JSON.
            XCTAssertThrowsError(try JSONDocument.parse(string([UInt8(ascii: "\"")])), "quote at \(offset)") { error in
                XCTAssertEqual((error as? JSONSyntaxError)?.offset, 2 + offset)
            }
        }
    }

    /// The word test has no false negatives: checked against a byte-by-byte test over every
    /// byte value in every lane, and seeded random words.
    func testTheWordTestMissesNoByte() {
        func needsLookByByte(_ word: UInt64) -> Bool {
            (0..<8).contains { lane in
                let byte = UInt8(truncatingIfNeeded: word >> (8 * lane))
                return byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80
            }
        }
        let plain: UInt64 = 0x6161_6161_6161_6161  // "aaaaaaaa"
        for lane in 0..<8 {
            for value in UInt64(0)...255 {
                let word = plain & ~(0xFF << (8 * lane)) | value << (8 * lane)
                XCTAssertEqual(JSONScanner.needsLook(word), needsLookByByte(word), "byte \(value) in lane \(lane)")
            }
        }
        var random = SplitMix64(seed: 0x5EED_0A12)
        for _ in 0..<200_000 {
            // Mostly printable ASCII, as strings are, so that both answers occur.
            let word = random.next() & 0x7F7F_7F7F_7F7F_7F7F | 0x2020_2020_2020_2020 & random.next()
            if needsLookByByte(word) { XCTAssertTrue(JSONScanner.needsLook(word), String(word, radix: 16)) }
        }
    }

    func testLinesAreCounted() throws {
        let object = try XCTUnwrap(parse("{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      \"x\"\n    ]\n  }\n}").object)
        XCTAssertEqual(object.line, 1)
        XCTAssertEqual(object.field("a")?.line, 2)
        XCTAssertEqual(object.field("b")?.line, 3)
        XCTAssertEqual(object.field("b")?.mapping?.field("c")?.sequence?.first?.line, 5)
    }

    func testMalformedTextIsRejected() {
        let bad = [
            "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{a:1}", "'x'", "01", "1.", "-", "1e",
            "tru", "nul", "\"unterminated", "\"tab\there\"", #""\x""#, #""\u12G4""#, "{} {}", "[\"\u{1}\"]",
        ]
        for text in bad {
            XCTAssertThrowsError(try parse(text), "accepted: \(text)")
        }
        XCTAssertThrowsError(try JSONDocument.parse([0x22, 0xff, 0x22]), "invalid UTF-8")
        XCTAssertEqual(try parse("  [ ]  ").sequence?.count, 0)
    }

    func testSyntaxErrorsNameLineAndByte() {
        XCTAssertThrowsError(try parse("{\n\"a\": [1,\n 2 3]}")) { error in
            XCTAssertEqual((error as? JSONSyntaxError)?.line, 3)
            XCTAssertEqual("\(error)", #"JSON syntax error at line 3, byte 14: expected "," or "]", got "3""#)
        }
    }

    func testDeepNestingDoesNotRecurse() throws {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertEqual(try parse(text).sequence?.count, 1)
    }

    func testStreamingAListHandsOverOneItemAtATime() throws {
        let text = #"{"kind":"ServiceList","metadata":{"resourceVersion":"7"},"items":[{"n":1},{"n":2}],"apiVersion":"v1"}"#
        var seen: [String] = []
        let fields = try JSONDocument.readObject(Array(text.utf8), streaming: "items") { item in
            seen.append(item.mapping?.field("n")?.scalarText ?? "?")
        }
        XCTAssertEqual(seen, ["1", "2"])
        XCTAssertEqual(fields.keys.sorted(), ["apiVersion", "kind", "metadata"])
        XCTAssertEqual(fields["metadata"]?.mapping?.field("resourceVersion")?.string, "7")
        XCTAssertNoThrow(try JSONDocument.readObject(Array(#"{"items":[]}"#.utf8), streaming: "items") { _ in })
        XCTAssertThrowsError(try JSONDocument.readObject(Array(#"{"items":[{}]"#.utf8), streaming: "items") { _ in })
        XCTAssertThrowsError(try JSONDocument.readObject(Array("[]".utf8), streaming: "items") { _ in })
    }
}
